"""Looking up the directory: the visitor's département, chat and audience, plus national lines."""

from __future__ import annotations

from pathlib import Path

from confide.referrals import actions, queries
from confide.runtime import Runtime

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"
NATIONAL = {
    "3919 Violences Femmes Info",
    "119 Allô Enfance en danger",
    "116 006 France Victimes",
    "114 Urgence par SMS",
    "17 Police-secours",
}


async def lookup(rt: Runtime, departement: str, **filters: str) -> list[str]:
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    async with rt.reading() as session:
        found = await queries.lookup(session, departement=departement, **filters)
    return [r.name for r in found]


async def test_local_resources_of_the_departement_first_then_every_national_line(
    rt: Runtime,
) -> None:
    found = await lookup(rt, "48", channel="domestic")
    local = found[: len(found) - len(NATIONAL)]
    assert set(found[len(local) :]) == NATIONAL
    assert set(local) == {
        "[FICTIF] Maison de protection des familles de Lozère",
        "[FICTIF] Psychologue de l'unité médico-judiciaire Lozère",
    }


async def test_the_chat_and_the_audience_filter_local_resources(rt: Runtime) -> None:
    discrimination = await lookup(rt, "75", channel="discrimination")
    assert "[FICTIF] Association d'aide aux victimes Paris Est" in discrimination
    assert "[FICTIF] CIDFF de Paris" not in discrimination
    minors = await lookup(rt, "75", channel="domestic", audience="minors")
    assert "[FICTIF] CIDFF de Paris" not in minors
    assert "[FICTIF] Association d'aide aux victimes Paris Est" in minors
    assert set(minors) >= NATIONAL


async def test_an_unknown_place_still_gets_the_national_lines(rt: Runtime) -> None:
    assert set(await lookup(rt, "", channel="sexual")) == NATIONAL
    assert set(await lookup(rt, "2A", channel="sexual")) == NATIONAL
