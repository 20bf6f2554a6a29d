#!/usr/bin/env python3
"""Build the postcode → département tables shipped in ``confide.routing``.

Source: the npm package ``@etalab/decoupage-administratif`` (INSEE Code officiel
géographique + La Poste "base officielle des codes postaux"; data under the
Licence Ouverte / Open Licence 2.0, Etalab). See ``data/README.md``.

The package is installed with ``npm`` into a throw-away directory (no
install scripts are run), its integrity hash is checked against the pinned
value, then ``data/communes.json`` and ``data/departements.json`` are turned
into two small CSV files:

``postcodes.csv``     postcode,insee,commune,departement,region
                      one row per (postcode, INSEE code) pair, sorted.
``departements.csv``  code,name,region

What goes into ``postcodes.csv``: every entry of ``communes.json`` that carries
``codesPostaux``. In version 6.0.0 that is every ``commune-actuelle`` (DROM and
the collectivités d'outre-mer 975/977/978/986/987/988/989 included; the five
TAAF districts, 984xx, have no postal code) and the 45 ``arrondissement-municipal``
entries of Paris/Lyon/Marseille. ``commune-deleguee`` and ``commune-associee``
entries carry no postal code in this release; they would be picked up
automatically if a later release added some.

Usage::

    python scripts/build_postcodes.py                      # fetch the pinned version with npm
    python scripts/build_postcodes.py --package-dir DIR    # use an already unpacked package
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"  # millésime 2026 of the COG (see the package README)
# `npm view @etalab/decoupage-administratif@6.0.0 dist.integrity`
INTEGRITY = (
    "sha512-"
    "XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "confide" / "routing" / "data"

POSTCODE_RE = re.compile(r"[0-9]{5}")
INSEE_RE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
DEPARTEMENT_RE = re.compile(r"[0-9]{2}|2[AB]|9[78][0-9]")

PostcodeRow = tuple[str, str, str, str, str]


def fetch_package(version: str, workdir: Path) -> Path:
    """Install ``PACKAGE@version`` under *workdir* and return the package directory."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found on PATH (or pass --package-dir)")
    cmd = [
        npm,
        "install",
        "--prefix",
        str(workdir),
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        f"{PACKAGE}@{version}",
    ]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    pkg_dir = workdir / "node_modules" / PACKAGE
    installed = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))["version"]
    if installed != version:
        sys.exit(f"npm installed {PACKAGE}@{installed}, expected {version}")
    if version == VERSION:
        lock = json.loads((workdir / "package-lock.json").read_text(encoding="utf-8"))
        integrity = lock["packages"][f"node_modules/{PACKAGE}"].get("integrity")
        if integrity != INTEGRITY:
            sys.exit(f"integrity mismatch for {PACKAGE}@{version}: {integrity!r}")
    return pkg_dir


def load_json(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise SystemExit(f"{path}: expected a JSON list")
    return data


def departement_rows(departements: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    rows = []
    for dep in departements:
        code, name, region = str(dep["code"]), str(dep["nom"]), str(dep["region"])
        if not DEPARTEMENT_RE.fullmatch(code):
            raise SystemExit(f"unexpected département code {code!r}")
        rows.append((code, name, region))
    rows.sort()
    if len({code for code, _, _ in rows}) != len(rows):
        raise SystemExit("duplicate département codes in departements.json")
    return rows


def postcode_rows(communes: Iterable[dict[str, Any]], known_deps: set[str]) -> list[PostcodeRow]:
    rows: set[PostcodeRow] = set()
    for commune in communes:
        postcodes = commune.get("codesPostaux") or []
        insee, dep = str(commune["code"]), str(commune["departement"])
        if not INSEE_RE.fullmatch(insee):
            raise SystemExit(f"unexpected INSEE code {insee!r}")
        if postcodes and dep not in known_deps:
            raise SystemExit(f"{insee}: unknown département {dep!r}")
        for postcode in postcodes:
            if not POSTCODE_RE.fullmatch(postcode):
                raise SystemExit(f"{insee}: malformed postcode {postcode!r}")
            rows.add((postcode, insee, str(commune["nom"]), dep, str(commune["region"])))
    return sorted(rows)


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


def _multi(rows: Iterable[PostcodeRow]) -> Iterator[tuple[str, list[str]]]:
    deps: dict[str, set[str]] = {}
    for postcode, _, _, dep, _ in rows:
        deps.setdefault(postcode, set()).add(dep)
    for postcode, found in sorted(deps.items()):
        if len(found) > 1:
            yield postcode, sorted(found)


def build(pkg_dir: Path, output: Path) -> None:
    data_dir = pkg_dir / "data"
    deps = departement_rows(load_json(data_dir / "departements.json"))
    rows = postcode_rows(load_json(data_dir / "communes.json"), {code for code, _, _ in deps})
    output.mkdir(parents=True, exist_ok=True)
    _write_csv(output / "departements.csv", ("code", "name", "region"), deps)
    _write_csv(
        output / "postcodes.csv", ("postcode", "insee", "commune", "departement", "region"), rows
    )
    multi = list(_multi(rows))
    print(
        f"{len(rows)} rows, {len({r[0] for r in rows})} postcodes, "
        f"{len(deps)} départements, {len(multi)} multi-département postcodes",
        file=sys.stderr,
    )
    for postcode, found in multi:
        print(f"  {postcode}: {', '.join(found)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"package version (default {VERSION})")
    parser.add_argument(
        "--package-dir", type=Path, help="use an unpacked package instead of running npm"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output directory")
    args = parser.parse_args(argv)
    if args.package_dir is not None:
        build(args.package_dir, args.output)
        return
    with tempfile.TemporaryDirectory(prefix="decoupage-") as tmp:
        build(fetch_package(args.version, Path(tmp)), args.output)


if __name__ == "__main__":
    main()
