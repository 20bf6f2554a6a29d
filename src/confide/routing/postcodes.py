"""French postal code → département lookup.

The tables live in ``confide/routing/data/`` (built by ``scripts/build_postcodes.py``
from ``@etalab/decoupage-administratif``, INSEE COG + La Poste, Licence Ouverte 2.0;
see ``data/README.md``). They are read once, lazily, through ``importlib.resources``
so the lookup works from an installed wheel as well as from a source checkout.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "Area",
    "PostcodeInvalid",
    "departement_codes",
    "departement_name",
    "lookup",
    "normalize_postcode",
]

_DATA_PACKAGE = "confide.routing"
_POSTCODES_FILE = "postcodes.csv"
_DEPARTEMENTS_FILE = "departements.csv"

# Anything longer than this is not a postcode typed by a human; refuse it before
# doing any work on it.
_MAX_RAW_LENGTH = 32
# Separators people put inside a postcode: every Unicode white space (this covers
# the no-break space U+00A0 and the narrow no-break space U+202F) and dots.
_SEPARATORS = re.compile(r"[\s.]+")
_POSTCODE = re.compile(r"[0-9]{5}")
# Overseas prefixes whose 3 digits name a département / collectivité directly.
# 977 (Saint-Barthélemy) and 978 (Saint-Martin) use La Poste codes 97133 / 97150,
# which are in the data; 97[7-9]xx codes do not exist.
_OVERSEAS_97 = frozenset({"971", "972", "973", "974", "975", "976"})
_CORSICA_SPLIT = 20200  # 200xx-201xx: Corse-du-Sud (2A); 202xx-206xx: Haute-Corse (2B)


class PostcodeInvalid(ValueError):
    """The input is not a well-formed French postal code (exactly 5 digits)."""


@dataclass(frozen=True)
class Area:
    """Where a postal code routes to.

    ``departements`` is ordered: the département implied by the code's prefix comes
    first when it is one of them, then the others by code. It is empty when the
    code is well formed but points nowhere in France (e.g. ``00000``, ``99999``,
    Monaco's ``98000``): route such visitors to the national queue.
    ``known`` is True when the code is in the La Poste data, False when the
    départements were guessed from the prefix (or could not be guessed).
    """

    postcode: str
    departements: tuple[str, ...]
    known: bool


def normalize_postcode(raw: str) -> str:
    """Return *raw* as exactly 5 ASCII digits, or raise :class:`PostcodeInvalid`.

    White space (including no-break spaces) and dots are removed anywhere in the
    input, so ``" 75011 "``, ``"01 000"`` and ``"75.011"`` are accepted. A 4-digit
    code is *not* padded with a leading zero: ``"1000"`` could be a typo for
    ``01000`` or ``10000`` and guessing would route the visitor to the wrong police.
    """
    if not isinstance(raw, str):
        raise PostcodeInvalid("postcode must be a string")
    if len(raw) > _MAX_RAW_LENGTH:
        raise PostcodeInvalid("postcode is too long")
    candidate = _SEPARATORS.sub("", raw)
    if not _POSTCODE.fullmatch(candidate):
        raise PostcodeInvalid("a postcode is exactly 5 digits")
    return candidate


def lookup(postcode: str) -> Area:
    """Return the :class:`Area` of *postcode* (normalised first).

    Raises :class:`PostcodeInvalid` for ill-formed input only; every 5-digit code
    gets an answer, possibly ``departements=()`` (national queue).
    """
    code = normalize_postcode(postcode)
    known = _postcode_table().get(code)
    if known is not None:
        return Area(postcode=code, departements=known, known=True)
    guess = _departement_from_prefix(code)
    return Area(postcode=code, departements=(guess,) if guess else (), known=False)


def departement_name(code: str) -> str | None:
    """Name of département / collectivité *code* (``"2A"``, ``"75"``, ``"974"``…)."""
    entry = _departement_table().get(code.strip().upper())
    return entry[0] if entry else None


def departement_codes() -> frozenset[str]:
    """Every département / collectivité code known to the data (109 in COG 2026)."""
    return frozenset(_departement_table())


def _departement_from_prefix(code: str) -> str | None:
    """Best-effort département for a well-formed code that is not in the data."""
    guess = _prefix_only(code)
    if code.startswith("97") and guess not in _OVERSEAS_97:
        return None
    return guess if guess in _departement_table() else None


def _read_csv(name: str) -> list[dict[str, str]]:
    resource = resources.files(_DATA_PACKAGE).joinpath("data").joinpath(name)
    text = resource.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _departement_table() -> dict[str, tuple[str, str]]:
    """code → (name, region code)."""
    return {row["code"]: (row["name"], row["region"]) for row in _read_csv(_DEPARTEMENTS_FILE)}


@functools.cache
def _postcode_table() -> dict[str, tuple[str, ...]]:
    """postcode → ordered départements."""
    grouped: dict[str, set[str]] = {}
    for row in _read_csv(_POSTCODES_FILE):
        grouped.setdefault(row["postcode"], set()).add(row["departement"])
    table: dict[str, tuple[str, ...]] = {}
    for code, deps in grouped.items():
        primary = _prefix_only(code)
        ordered = sorted(deps, key=lambda dep: (dep != primary, dep))
        table[code] = tuple(ordered)
    return table


def _prefix_only(code: str) -> str:
    """The département a code's digits point to, without checking it exists."""
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):
        return "2A" if int(code) < _CORSICA_SPLIT else "2B"
    return code[:2]
