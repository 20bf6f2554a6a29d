"""`/staff/audit`: supervisors and admins search the log; officers cannot; no content in it."""

from __future__ import annotations

import re

import httpx

from confide.audit import queries
from confide.conversations import actions as conversation_actions
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.casework.helpers import QUALIFICATION
from tests.clients import send_text, staff_login, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


def entry_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-entry-id="(\d+)"', html)]


async def test_supervisors_and_admins_search_by_conversation_action_staff_and_date(
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    supervisor: Persona,
    admin: Persona,
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "contenu très privé")
    await visitor.close()
    officer = identity(officer_paris)
    await conversation_actions.take_conversation(rt, staff=officer, conversation_id=conversation_id)
    await conversation_actions.close_conversation(
        rt, staff=officer, conversation_id=conversation_id, qualification=QUALIFICATION
    )
    async with httpx.AsyncClient(
        base_url=live_server.url,
        cookies=await staff_login(live_server, supervisor),
        params={"lang": "en"},
    ) as client:
        page = await client.get("/staff/audit", params={"conversation_id": conversation_id})
        assert page.status_code == 200
        assert len(entry_ids(page.text)) == 2
        assert "conversation.assigned" in page.text
        assert "conversation.closed" in page.text
        assert "Conversation closed" in page.text, "each action is also said in words"
        french = await client.get(
            "/staff/audit", params={"conversation_id": conversation_id, "lang": "fr"}
        )
        assert "Conversation clôturée" in french.text
        assert officer_paris.username in page.text
        assert "contenu très privé" not in page.text
        assert "127.0.0.1" not in page.text
        closed = await client.get(
            "/staff/audit",
            params={"conversation_id": conversation_id, "action": "conversation.closed"},
        )
        assert len(entry_ids(closed.text)) == 1
        mine = await client.get("/staff/audit", params={"username": officer_paris.username})
        assert len(entry_ids(mine.text)) == 2
        old = await client.get(
            "/staff/audit",
            params={"conversation_id": conversation_id, "date_to": "2001-01-01"},
        )
        assert entry_ids(old.text) == []
        assert "No entry matches." in old.text
        bad = await client.get("/staff/audit", params={"date_from": "yesterday"})
        assert bad.status_code == 422
        assert "YYYY-MM-DD" in bad.text
        everything = await client.get("/staff/audit")
        ids = entry_ids(everything.text)
        assert ids == sorted(ids, reverse=True)
    async with httpx.AsyncClient(
        base_url=live_server.url, cookies=await staff_login(live_server, admin)
    ) as client:
        assert (await client.get("/staff/audit")).status_code == 200
    async with httpx.AsyncClient(
        base_url=live_server.url, cookies=await staff_login(live_server, officer_paris)
    ) as client:
        assert (await client.get("/staff/audit")).status_code == 403


async def test_search_pages_newest_first(rt: Runtime, officer_paris: Persona) -> None:
    officer = identity(officer_paris)
    for _ in range(3):
        conversation, _token = await conversation_actions.start_conversation(
            rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
        )
        await conversation_actions.take_conversation(
            rt, staff=officer, conversation_id=conversation.id
        )
        await conversation_actions.close_conversation(
            rt, staff=officer, conversation_id=conversation.id, qualification=QUALIFICATION
        )
    filters = queries.AuditFilters(username=officer_paris.username)
    async with rt.reading() as session:
        first, more = await queries.search(session, filters, page=1, page_size=4)
        second, no_more = await queries.search(session, filters, page=2, page_size=4)
    assert more
    assert not no_more
    assert [r.id for r in first + second] == sorted((r.id for r in first + second), reverse=True)
    assert len(first + second) == 6  # assigned and closed, three times


def test_every_audit_action_has_a_label_for_readers() -> None:
    from confide.audit.actions import ACTION_LABELS, AuditAction

    assert set(ACTION_LABELS) == set(AuditAction)
