"""The signalement pages on the live server: the form (field errors keep what was typed),
the printable and plain-text exports (audited), and who may open them."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.disclosure import actions as disclosure_actions
from confide.runtime import Runtime
from tests.clients import FrameSocket, staff_login, staff_socket, start_conversation
from tests.conftest import LiveServer, Persona, make_staff

FACTS = "Menaces de mort répétées par l'ex-conjoint <b>depuis une semaine</b>."


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def client_for(server: LiveServer, cookies: httpx.Cookies) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, cookies=cookies, params={"lang": "en"}, follow_redirects=False
    )


async def logged_in(server: LiveServer, persona: Persona) -> httpx.AsyncClient:
    return client_for(server, await staff_login(server, persona))


async def takes(
    server: LiveServer, persona: Persona, conversation_id: str
) -> tuple[FrameSocket, httpx.AsyncClient]:
    """One login (a TOTP code is good once): the console holding the conversation, and a
    client for the pages."""
    cookies = await staff_login(server, persona)
    socket, _ = await staff_socket(server, cookies)
    await socket.send({"type": "take", "conversation_id": conversation_id})
    await socket.expect("opened")
    return socket, client_for(server, cookies)


async def exports_of(rt: Runtime, conversation_id: str) -> list[str]:
    async with rt.reading() as session:
        return list(
            await session.scalars(
                select(AuditEvent.detail)
                .where(
                    AuditEvent.conversation_id == conversation_id,
                    AuditEvent.action == "signalement.exported",
                )
                .order_by(AuditEvent.id)
            )
        )


async def test_officer_writes_a_signalement_and_exports_it_for_the_unit(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    socket, client = await takes(live_server, officer_paris, conversation_id)
    new = f"/staff/conversations/{conversation_id}/signalements/new"
    async with client:
        page = await client.get(new)
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        assert 'name="referral_id"' in page.text
        assert 'name="facts"' in page.text
        assert "Use what the person shared" not in page.text

        # A missing unit: the field is named and what was typed comes back.
        refused = await client.post(
            new, data={"csrf": csrf, "urgency": "immediate", "facts": FACTS, "action": "save"}
        )
        assert refused.status_code == 422
        assert 'id="unit-error"' in refused.text
        assert "Choose a unit from the list or type its name." in refused.text
        assert "Menaces de mort répétées par l&#39;ex-conjoint &lt;b&gt;depuis" in refused.text
        assert re.search(r'value="immediate" checked', refused.text)

        # Without the CSRF field nothing is written.
        assert (
            await client.post(new, data={"unit_name": "BPF", "urgency": "normal", "facts": FACTS})
        ).status_code == 403

        created = await client.post(
            new,
            data={
                "csrf": csrf,
                "unit_name": "Brigade de protection de la famille",
                "urgency": "immediate",
                "agreed_contact": "1",
                "facts": FACTS,
                "contact": "06 11 22 33 44",
                "action": "save",
            },
        )
        assert created.status_code == 303
        edit_url = created.headers["location"]
        match = re.search(r"/staff/signalements/([0-9]+)/edit\?lang=en&saved=1$", edit_url)
        assert match is not None
        signalement_id = int(match.group(1))

        # The console following the conversation hears of it (unit and urgency only).
        saved = await socket.expect("signalement_saved", conversation_id=conversation_id)
        assert saved["signalement"]["id"] == signalement_id
        assert saved["signalement"]["unit"] == "Brigade de protection de la famille"
        assert saved["signalement"]["urgency"] == "immediate"
        assert "facts" not in saved["signalement"]

        edit = await client.get(edit_url.split("?")[0], params={"lang": "en", "saved": "1"})
        assert edit.status_code == 200
        assert "The signalement is saved." in edit.text
        assert f'href="/staff/signalements/{signalement_id}?lang=en"' in edit.text
        assert await exports_of(rt, conversation_id) == []

        printable = await client.get(f"/staff/signalements/{signalement_id}")
        assert printable.status_code == 200
        assert "Menaces de mort répétées par l&#39;ex-conjoint &lt;b&gt;" in printable.text
        assert "06 11 22 33 44" in printable.text
        assert conversation_id in printable.text
        assert "Immediate" in printable.text
        assert '<script type="module" src="/static/signalement.js">' in printable.text
        assert "<script>" not in printable.text

        text = await client.get(f"/staff/signalements/{signalement_id}/export.txt")
        assert text.status_code == 200
        assert text.headers["content-type"].startswith("text/plain")
        assert FACTS in text.text
        assert "Paris (75)" in text.text
        assert "75011" in text.text

        # A change keeps the reference; an empty summary is refused and the rest kept.
        changed = await client.post(
            edit_url.split("?")[0],
            data={"csrf": csrf, "unit_name": "BPF Paris", "urgency": "normal", "facts": ""},
        )
        assert changed.status_code == 422
        assert 'id="facts-error"' in changed.text
        assert 'value="BPF Paris"' in changed.text
    details = await exports_of(rt, conversation_id)
    assert details == [
        f'{{"format":"html","signalement_id":{signalement_id}}}',
        f'{{"format":"text","signalement_id":{signalement_id}}}',
    ]
    await socket.close()


async def test_the_officer_may_use_what_the_person_shared(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    socket, client = await takes(live_server, officer_paris, conversation_id)
    await disclosure_actions.give_identity(
        rt, conversation_id=conversation_id, fields={"name": "Camille", "email": "c@example.org"}
    )
    new = f"/staff/conversations/{conversation_id}/signalements/new"
    async with client:
        page = await client.get(new)
        assert "Use what the person shared" in page.text
        prefilled = await client.post(
            new,
            data={
                "csrf": csrf_of(page.text),
                "facts": FACTS,
                "urgency": "normal",
                "action": "prefill",
            },
        )
        assert prefilled.status_code == 200
        assert "Name: Camille\nE-mail: c@example.org</textarea>" in prefilled.text
        assert "Menaces de mort" in prefilled.text
    async with rt.reading() as session:
        viewed = list(
            await session.scalars(
                select(AuditEvent.actor_staff_id).where(
                    AuditEvent.conversation_id == conversation_id,
                    AuditEvent.action == "identity.viewed",
                )
            )
        )
    assert viewed == [officer_paris.id]
    await socket.close()


async def test_psychologists_admins_and_other_officers_are_refused(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    socket, in_charge = await takes(live_server, officer_paris, conversation_id)
    new = f"/staff/conversations/{conversation_id}/signalements/new"
    for role in ("psychologist", "admin"):
        persona = await make_staff(rt, role)
        async with await logged_in(live_server, persona) as client:
            assert (await client.get(new)).status_code == 403
            assert (await client.get("/staff/signalements/1")).status_code == 403
            assert (await client.get("/staff/signalements/1/export.txt")).status_code == 403
    async with await logged_in(live_server, officer_national) as client:
        assert (await client.get(new)).status_code == 403
    async with in_charge:
        assert (await in_charge.get(new)).status_code == 200
        assert (await in_charge.get("/staff/signalements/999999")).status_code == 404
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        assert (await anonymous.get(new)).status_code in (303, 401)
    await socket.close()
