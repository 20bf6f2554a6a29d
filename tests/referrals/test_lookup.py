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


SPLIT_CSV = (
    "type,name,address,postcode,insee,departement,phone,email,hours,audience,channels,source\n"
    "ligne_nationale,3919 Violences Femmes Info,,,,,3919,,,women,domestic sexual,x\n"
    "cidff,[FICTIF] CIDFF de Lozère,,,,48,04 00 00 00 01,,,women,domestic,x\n"
    "association_aide_victimes,[FICTIF] Aide aux victimes Ardèche,,,,07,04 00 00 00 02,,,all,domestic,x\n"
    "association_aide_victimes,[FICTIF] Aide aux victimes Haute-Loire,,,,43,04 00 00 00 03,,,all,domestic,x\n"
    "association_aide_victimes,[FICTIF] Aide aux victimes Drôme,,,,26,04 00 00 00 04,,,all,domestic,x\n"
    "association_aide_victimes,[FICTIF] Aide aux victimes Gard sexuelles,,,,30,04 00 00 00 05,,,all,sexual,x\n"
    "association_aide_victimes,[FICTIF] Aide aux victimes Paris,,,,75,01 00 00 00 06,,,all,domestic,x\n"
)


def test_the_neighbour_table_reads_both_ways_and_names_real_departements() -> None:
    from confide.referrals import neighbours
    from confide.routing import postcodes

    codes = postcodes.departement_codes()
    for code, others in neighbours._BORDERS.items():
        assert code in codes
        for other in others.split():
            assert other in codes
            assert other != code
            assert code in neighbours._BORDERS[other].split(), (code, other)
    assert neighbours.of("75") == {"92", "93", "94"}
    assert neighbours.of("2a") == {"2B"}
    assert neighbours.of("974") == frozenset()
    assert neighbours.around(["48", "07"]) == ["12", "15", "26", "30", "38", "42", "43", "84"]


async def test_a_postal_code_spanning_two_departements_looks_in_both_then_their_neighbours(
    rt: Runtime,
) -> None:
    from confide.conversations import actions as conversation_actions
    from confide.routing import postcodes
    from confide.staff.schemas import StaffIdentity
    from tests.conftest import make_staff

    # 48250 (Luc, Laveyrune…) is shared by Lozère and Ardèche in the La Poste data.
    assert postcodes.lookup("48250").departements == ("48", "07")
    assert (await actions.import_referrals(rt, SPLIT_CSV)).errors == []
    officer = await make_staff(rt, "officer")
    staff = StaffIdentity(officer.id, officer.username, "Agent", "officer", 0, "")
    conversation, _ = await conversation_actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode="48250", lang="fr"
    )
    assert conversation.departements == "48 07"
    await conversation_actions.take_conversation(rt, staff=staff, conversation_id=conversation.id)

    found = (
        await actions.directory_for(rt, staff=staff, conversation_id=conversation.id)
    ).resources
    assert [(r["name"], r["distance"]) for r in found] == [
        ("[FICTIF] Aide aux victimes Ardèche", "departement"),
        ("[FICTIF] CIDFF de Lozère", "departement"),
        ("[FICTIF] Aide aux victimes Drôme", "neighbour"),
        ("[FICTIF] Aide aux victimes Haute-Loire", "neighbour"),
        ("3919 Violences Femmes Info", "national"),
    ]


async def test_the_officer_chooses_the_public_and_a_suspected_minor_gets_minors_resources(
    rt: Runtime,
) -> None:
    import pytest

    from confide.casework import actions as casework_actions
    from confide.conversations import actions as conversation_actions
    from confide.referrals.errors import AudienceInvalid
    from confide.staff.schemas import StaffIdentity
    from tests.conftest import make_staff

    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    officer = await make_staff(rt, "officer")
    staff = StaffIdentity(officer.id, officer.username, "Agent", "officer", 0, "")
    conversation, _ = await conversation_actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
    )
    await conversation_actions.take_conversation(rt, staff=staff, conversation_id=conversation.id)

    def names(directory: actions.Directory) -> set[str]:
        return {str(r["name"]) for r in directory.resources}

    everyone = await actions.directory_for(rt, staff=staff, conversation_id=conversation.id)
    assert everyone.audience is None
    assert {"3919 Violences Femmes Info", "119 Allô Enfance en danger"} <= names(everyone)
    women = await actions.directory_for(
        rt, staff=staff, conversation_id=conversation.id, audience="women"
    )
    assert "[FICTIF] CIDFF de Paris" in names(women)
    assert women.resources[-5]["name"] == "3919 Violences Femmes Info", "its national line first"
    with pytest.raises(AudienceInvalid):
        await actions.directory_for(
            rt, staff=staff, conversation_id=conversation.id, audience="everybody"
        )

    await casework_actions.set_flag(
        rt, staff=staff, conversation_id=conversation.id, flag="minor", on=True
    )
    minor = await actions.directory_for(rt, staff=staff, conversation_id=conversation.id)
    assert minor.audience == "minors"
    assert "[FICTIF] CIDFF de Paris" not in names(minor), "a resource for women only"
    assert "[FICTIF] Association d'aide aux victimes Paris Est" in names(minor)
    national = [r["name"] for r in minor.resources if r["distance"] == "national"]
    assert national[0] == "119 Allô Enfance en danger"
    assert len(national) == 5, "every national line stays listed"
