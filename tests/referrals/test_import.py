"""`confide referrals import`: every row checked, errors by line, all rows or none."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from confide.referrals import actions
from confide.referrals.models import ReferralResource
from confide.runtime import Runtime

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"
HEADER = "type,name,address,postcode,insee,departement,phone,email,hours,audience,channels,source\n"


async def names(rt: Runtime) -> set[str]:
    async with rt.reading() as session:
        return set(await session.scalars(select(ReferralResource.name)))


async def test_the_sample_file_imports_and_replaces_the_directory(rt: Runtime) -> None:
    report = await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    assert report.errors == []
    assert report.resources == 10
    imported = await names(rt)
    assert {"3919 Violences Femmes Info", "119 Allô Enfance en danger", "17 Police-secours"} <= (
        imported
    )
    local = [n for n in imported if not n[0].isdigit()]
    assert local
    assert all(n.startswith("[FICTIF]") for n in local)

    again = await actions.import_referrals(
        rt, HEADER + "ligne_nationale,3919 Violences Femmes Info,,,,,3919,,,women,domestic,x\n"
    )
    assert again.resources == 1
    assert await names(rt) == {"3919 Violences Femmes Info"}


async def test_a_file_with_bad_rows_imports_nothing_and_names_each_line(rt: Runtime) -> None:
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    before = await names(rt)
    bad = HEADER + (
        "cidff,[FICTIF] Bon,1 rue,75011,75111,75,01 00 00 00 00,,,women,domestic,x\n"
        "refuge,[FICTIF] Type inconnu,,,,75,0100000000,,,all,domestic,x\n"
        "cidff,[FICTIF] Sans département,,,,99,0100000000,,,all,domestic,x\n"
        "cidff,[FICTIF] Téléphone,,,,48,appelez-nous,,,all,domestic,x\n"
        "ligne_nationale,Ligne locale ?,,,,75,3919,,,all,domestic,x\n"
        "cidff,[FICTIF] Chat inconnu,,,,48,0400000000,,,all,burglary,x\n"
        "cidff,[FICTIF] Public,,,,48,0400000000,,,men,domestic,x\n"
        "cidff,[FICTIF] Bon,1 rue,75011,75111,75,01 00 00 00 00,,,women,domestic,x\n"
    )
    report = await actions.import_referrals(rt, bad)
    assert report.resources == 0
    lines = dict(report.errors)
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9]
    assert "type" in lines[3]
    assert "département" in lines[4]
    assert "phone" in lines[5]
    assert "national" in lines[6]
    assert "chat" in lines[7]
    assert "audience" in lines[8]
    assert "line 2" in lines[9]
    assert await names(rt) == before


async def test_a_file_without_the_required_columns_is_refused(rt: Runtime) -> None:
    report = await actions.import_referrals(rt, "name,phone\nX,17\n")
    assert report.resources == 0
    assert report.errors[0][0] == 1
    assert "type" in report.errors[0][1]
