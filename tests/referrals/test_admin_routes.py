"""The directory admin page (`/staff/referrals`, admins): list and filters, add / change /
delete an entry with field errors that keep what was typed, and a CSV upload that imports
every row or none. Every change is audited."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.referrals import actions
from confide.referrals.models import ReferralResource
from confide.runtime import Runtime
from tests.clients import staff_login
from tests.conftest import LiveServer, Persona, make_staff

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"
HEADER = "type,name,address,postcode,insee,departement,phone,email,hours,audience,channels,source\n"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def logged_in(server: LiveServer, persona: Persona) -> httpx.AsyncClient:
    cookies = await staff_login(server, persona)
    return httpx.AsyncClient(
        base_url=server.url, cookies=cookies, params={"lang": "en"}, follow_redirects=False
    )


async def names(rt: Runtime) -> set[str]:
    async with rt.reading() as session:
        return set(await session.scalars(select(ReferralResource.name)))


async def audit(rt: Runtime, action: str, after: int) -> list[AuditEvent]:
    async with rt.reading() as session:
        return list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.id > after)
                .order_by(AuditEvent.id)
            )
        )


async def last_audit_id(rt: Runtime) -> int:
    async with rt.reading() as session:
        return int(await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) or 0)


async def test_only_admins_manage_the_directory(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, supervisor: Persona
) -> None:
    for persona in (officer_paris, supervisor, await make_staff(rt, "psychologist")):
        async with await logged_in(live_server, persona) as client:
            assert (await client.get("/staff/referrals")).status_code == 403
            assert (await client.get("/staff/referrals/new")).status_code == 403
            refused = await client.post(
                "/staff/referrals/import",
                files={"file": ("d.csv", HEADER.encode())},
                data={"csrf": "x"},
            )
            assert refused.status_code == 403


async def test_admin_lists_filters_adds_changes_and_deletes(
    live_server: LiveServer, rt: Runtime, admin: Persona
) -> None:
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    start = await last_audit_id(rt)
    async with await logged_in(live_server, admin) as client:
        page = await client.get("/staff/referrals")
        assert page.status_code == 200
        assert "10 resource(s)" in page.text
        assert "3919 Violences Femmes Info" in page.text
        csrf = csrf_of(page.text)

        lozere = await client.get("/staff/referrals", params={"lang": "en", "departement": "48"})
        assert "2 resource(s)" in lozere.text
        assert "3919" not in lozere.text
        national = await client.get(
            "/staff/referrals", params={"lang": "en", "departement": "national"}
        )
        assert "5 resource(s)" in national.text
        typed = await client.get("/staff/referrals", params={"lang": "en", "type": "cidff"})
        assert "1 resource(s)" in typed.text
        assert "[FICTIF] CIDFF de Paris" in typed.text
        chat = await client.get(
            "/staff/referrals", params={"lang": "en", "channel": "discrimination"}
        )
        assert "[FICTIF] CIDFF de Paris" not in chat.text
        found = await client.get("/staff/referrals", params={"lang": "en", "q": "police-SECOURS"})
        assert "1 resource(s)" in found.text
        assert "17 Police-secours" in found.text

        # Field errors name each wrong field and keep what was typed.
        typed_values = {
            "csrf": csrf,
            "type": "unite_police_gendarmerie",
            "name": "[FICTIF] Brigade de Florac",
            "departement": "48",
            "phone": "appelez-nous",
            "email": "pas une adresse",
            "audience": "all",
            "hours": "24 h/24",
        }
        refused = await client.post("/staff/referrals/new", data=typed_values)
        assert refused.status_code == 422
        for field in ("phone", "email", "channels"):
            assert f'id="{field}-error"' in refused.text, field
        assert 'id="name-error"' not in refused.text
        assert 'value="[FICTIF] Brigade de Florac"' in refused.text
        assert 'value="appelez-nous"' in refused.text
        assert 'value="24 h/24"' in refused.text
        assert '<option value="48" selected>' in refused.text
        assert "[FICTIF] Brigade de Florac" not in await names(rt)

        created = await client.post(
            "/staff/referrals/new",
            data={
                **typed_values,
                "phone": "04 66 00 00 00",
                "email": "",
                "channels": ["domestic", "sexual"],
            },
        )
        assert created.status_code == 303
        async with rt.reading() as session:
            brigade = await session.scalar(
                select(ReferralResource).where(
                    ReferralResource.name == "[FICTIF] Brigade de Florac"
                )
            )
        assert brigade is not None
        assert (brigade.departement, brigade.channels) == ("48", "domestic sexual")

        # The same name twice in a département is refused.
        again = await client.post(
            "/staff/referrals/new",
            data={
                **typed_values,
                "phone": "04 66 00 00 01",
                "email": "",
                "channels": ["domestic"],
            },
        )
        assert again.status_code == 422
        assert 'id="name-error"' in again.text

        edit = await client.get(f"/staff/referrals/{brigade.id}")
        assert 'value="[FICTIF] Brigade de Florac"' in edit.text
        changed = await client.post(
            f"/staff/referrals/{brigade.id}",
            data={
                **typed_values,
                "name": "[FICTIF] Brigade de Florac-Trois-Rivières",
                "phone": "04 66 00 00 02",
                "email": "",
                "channels": ["domestic"],
            },
        )
        assert changed.status_code == 303
        assert "[FICTIF] Brigade de Florac-Trois-Rivières" in await names(rt)

        deleted = await client.post(f"/staff/referrals/{brigade.id}/delete", data={"csrf": csrf})
        assert deleted.status_code == 303
        assert not [n for n in await names(rt) if "Florac" in n]
        assert (await client.get(f"/staff/referrals/{brigade.id}")).status_code == 404
        assert (
            await client.post(f"/staff/referrals/{brigade.id}/delete", data={})
        ).status_code == 403  # no CSRF field
    changes = [json.loads(e.detail) for e in await audit(rt, "referral.changed", start)]
    assert changes == [
        {"referral_id": brigade.id, "change": "created"},
        {"referral_id": brigade.id, "change": "updated"},
        {"referral_id": brigade.id, "change": "deleted"},
    ]


async def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_line(
    live_server: LiveServer, rt: Runtime, admin: Persona
) -> None:
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    before = await names(rt)
    start = await last_audit_id(rt)
    bad = HEADER + (
        "cidff,[FICTIF] Bon,1 rue,75011,75111,75,01 00 00 00 00,,,women,domestic,x\n"
        "cidff,[FICTIF] Téléphone,,,,48,appelez-nous,,,all,domestic,x\n"
    )
    async with await logged_in(live_server, admin) as client:
        csrf = csrf_of((await client.get("/staff/referrals")).text)
        refused = await client.post(
            "/staff/referrals/import",
            data={"csrf": csrf},
            files={"file": ("directory.csv", bad.encode(), "text/csv")},
        )
        assert refused.status_code == 422
        assert re.search(
            r'<li data-line="3">Line 3: The phone number "appelez-nous" is not valid\.</li>',
            html.unescape(refused.text),
        )
        assert await names(rt) == before

        latin1 = await client.post(
            "/staff/referrals/import",
            data={"csrf": csrf},
            files={
                "file": (
                    "d.csv",
                    (HEADER + "cidff,Hôtel,,,,75,01,,,all,domestic,x\n").encode("latin-1"),
                )
            },
        )
        assert latin1.status_code == 422
        assert "not UTF-8" in latin1.text

        good = HEADER + "ligne_nationale,3919 Violences Femmes Info,,,,,3919,,,women,domestic,x\n"
        imported = await client.post(
            "/staff/referrals/import",
            data={"csrf": csrf},
            files={"file": ("directory.csv", good.encode(), "text/csv")},
        )
        assert imported.status_code == 303
        assert await names(rt) == {"3919 Violences Femmes Info"}
    events = await audit(rt, "referral.imported", start)
    assert [(e.actor_staff_id, json.loads(e.detail)) for e in events] == [
        (admin.id, {"resources": 1})
    ]
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
