"""Extract message ids from the code and templates and merge them into the French catalogue.

Run after adding or changing a UI text: `make i18n`. New ids arrive with an empty
translation; `tests/test_i18n.py` fails until every id has one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "src/confide/i18n/fr/LC_MESSAGES/messages.po"
POT = ROOT / "build/messages.pot"


def main() -> None:
    POT.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "--no-location",
            "--sort-output",
            "-o",
            str(POT),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with POT.open("rb") as handle:
        template = read_po(handle)
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    catalog.update(template, no_fuzzy_matching=True)
    with PO.open("wb") as handle:
        write_po(
            handle,
            catalog,
            omit_header=False,
            no_location=True,
            sort_output=True,
            ignore_obsolete=True,
        )
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{len(catalog)} messages, {len(missing)} without a French translation")
    for message_id in missing:
        print(f"  missing: {message_id!r}")


if __name__ == "__main__":
    main()
