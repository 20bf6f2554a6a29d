"""Every text shown to users exists in French (the default) and the catalogue is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from babel.messages.pofile import read_po

from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "src/confide/i18n/fr/LC_MESSAGES/messages.po"


def test_every_extracted_message_has_a_french_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
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
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    translated = {m.id for m in catalog if m.id and m.string}
    assert wanted - translated == set(), "run `make i18n` and translate the new texts"
    assert len(wanted) > 100


async def test_pages_are_french_by_default_and_english_on_request(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        french = (await client.get("/")).text
        english = (await client.get("/?lang=en")).text
        unknown = (await client.get("/?lang=xx")).text
    assert 'lang="fr"' in french
    assert "Quitter rapidement" in french
    assert 'lang="en"' in english
    assert "Quick exit" in english
    assert "Quitter rapidement" in unknown
