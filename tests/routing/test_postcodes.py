"""Tests for confide.routing.postcodes (data: @etalab/decoupage-administratif 6.0.0)."""

from __future__ import annotations

import csv
import io
import re
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confide.routing.postcodes import (
    Area,
    PostcodeInvalid,
    departement_codes,
    departement_name,
    lookup,
    normalize_postcode,
)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("confide.routing").joinpath("data").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# --- normalisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("75011", "75011"),
        (" 75011 ", "75011"),
        ("01 000", "01000"),
        ("01\u00a0000", "01000"),  # no-break space
        ("01\u202f000", "01000"),  # narrow no-break space
        ("\t13 780\n", "13780"),
        ("75.011", "75011"),
        ("2 0 0 0 0", "20000"),
    ],
)
def test_normalize_accepts(raw: str, expected: str) -> None:
    assert normalize_postcode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "7501",  # 4 digits: never padded
        "1000",
        "750111",
        "ABCDE",
        "75O11",  # letter O
        "2A000",
        "75-011",
        "+7501",
        "-7501",
        "٧٥٠١١",  # Arabic-Indic digits are not ASCII digits
        "７５０１１",  # fullwidth digits
        "¹2345",
        "7" * 10_000,
    ],
)
def test_normalize_rejects(raw: str) -> None:
    with pytest.raises(PostcodeInvalid):
        normalize_postcode(raw)


def test_postcode_invalid_is_value_error() -> None:
    assert issubclass(PostcodeInvalid, ValueError)


@pytest.mark.parametrize("raw", ["7501", "750111", "ABCDE", ""])
def test_lookup_rejects_ill_formed(raw: str) -> None:
    with pytest.raises(PostcodeInvalid):
        lookup(raw)


# --- known codes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "departements"),
    [
        ("01000", ("01",)),  # leading zero kept: Bourg-en-Bresse, Ain
        ("01 000", ("01",)),
        ("75011", ("75",)),
        ("75116", ("75",)),
        ("69001", ("69",)),
        ("13001", ("13",)),
        ("20000", ("2A",)),  # Ajaccio
        ("20090", ("2A",)),
        ("20200", ("2B",)),  # Bastia
        ("20600", ("2B",)),
        ("97400", ("974",)),  # Saint-Denis, La Réunion
        ("97100", ("971",)),
        ("97500", ("975",)),  # Saint-Pierre-et-Miquelon
        ("97600", ("976",)),
        ("97133", ("977",)),  # Saint-Barthélemy uses a Guadeloupe-looking code
        ("97150", ("978",)),  # Saint-Martin too
        ("98600", ("986",)),
        ("98714", ("987",)),
        ("98800", ("988",)),
        ("98799", ("989",)),  # Clipperton (a Polynésie-looking code)
        ("94390", ("91",)),  # Orly airport, on Paray-Vieille-Poste (Essonne)
    ],
)
def test_known(raw: str, departements: tuple[str, ...]) -> None:
    area = lookup(raw)
    assert area == Area(postcode=normalize_postcode(raw), departements=departements, known=True)


def test_code_spanning_two_departements() -> None:
    # 13780 Cuges-les-Pins (13) and Riboux (83); the prefix département comes first.
    assert lookup("13780") == Area("13780", ("13", "83"), known=True)
    assert lookup("52100").departements == ("52", "51")
    assert lookup("05700").departements == ("05", "26")


def test_multi_departement_codes_match_data() -> None:
    by_code: dict[str, set[str]] = {}
    for row in _rows("postcodes.csv"):
        by_code.setdefault(row["postcode"], set()).add(row["departement"])
    multi = {code for code, deps in by_code.items() if len(deps) > 1}
    assert multi == {
        "01200", "01410", "01590", "05110", "05130", "05160", "05700", "06260",
        "13780", "21340", "33220", "37160", "42620", "43450", "48250", "52100",
    }  # fmt: skip
    for code in multi:
        area = lookup(code)
        assert area.known
        assert set(area.departements) == by_code[code]
        assert area.departements[0] == code[:2]  # prefix département first


# --- unknown but well-formed codes --------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "departements"),
    [
        ("01999", ("01",)),
        ("75999", ("75",)),
        ("95999", ("95",)),
        ("20199", ("2A",)),
        ("20999", ("2B",)),
        ("97199", ("971",)),
        ("97499", ("974",)),
        ("97699", ("976",)),
        ("98999", ("989",)),
        ("98499", ("984",)),  # TAAF: no postcode in the data, but a real collectivité
        ("00000", ()),
        ("00999", ()),
        ("96000", ()),
        ("99999", ()),
        ("97000", ()),
        ("97700", ()),  # Saint-Barthélemy's real code is 97133
        ("97800", ()),
        ("97999", ()),
        ("98000", ()),  # Monaco
        ("98500", ()),
    ],
)
def test_unknown(raw: str, departements: tuple[str, ...]) -> None:
    area = lookup(raw)
    assert area.postcode == raw
    assert area.departements == departements
    assert area.known is False


def test_area_is_frozen() -> None:
    area = lookup("75011")
    with pytest.raises(AttributeError):
        area.postcode = "13001"  # type: ignore[misc]


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_any_five_digits_never_raises(code: str) -> None:
    area = lookup(code)
    assert area.postcode == code
    assert all(dep in departement_codes() for dep in area.departements)
    assert len(set(area.departements)) == len(area.departements)
    assert area.known or len(area.departements) <= 1


@given(st.text(max_size=40))
def test_normalize_is_total(raw: str) -> None:
    try:
        result = normalize_postcode(raw)
    except PostcodeInvalid:
        return
    assert re.fullmatch(r"[0-9]{5}", result)


# --- data integrity ------------------------------------------------------------------


def test_every_row_has_an_existing_departement() -> None:
    deps = departement_codes()
    rows = _rows("postcodes.csv")
    assert len(rows) > 30_000
    assert list(rows[0]) == ["postcode", "insee", "commune", "departement", "region"]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        assert re.fullmatch(r"[0-9]{5}", row["postcode"]), row
        assert row["departement"] in deps, row
        assert row["commune"], row
        key = (row["postcode"], row["insee"])
        assert key not in seen, row
        seen.add(key)
        assert lookup(row["postcode"]).known


def test_departements_table() -> None:
    codes = departement_codes()
    assert len(codes) == 109  # 96 metropolitan + 5 DROM + 8 COM/TAAF/Clipperton
    assert {"01", "2A", "2B", "95", "971", "976", "977", "978", "987", "988"} <= codes
    assert "20" not in codes
    assert departement_name("75") == "Paris"
    assert departement_name("2a") == "Corse-du-Sud"
    assert departement_name("2B") == "Haute-Corse"
    assert departement_name("974") == "La Réunion"
    assert departement_name("20") is None
    assert departement_name("") is None
