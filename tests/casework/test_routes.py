"""The transcript pages on the live server: who may export, the digest check, the audit."""

from __future__ import annotations

import hashlib
import re

import httpx
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.runtime import Runtime
from tests.casework.helpers import QUALIFICATION, identity
from tests.clients import send_text, staff_login, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona


async def logged_in(server: LiveServer, persona: Persona) -> httpx.AsyncClient:
    cookies = await staff_login(server, persona)
    return httpx.AsyncClient(
        base_url=server.url, cookies=cookies, params={"lang": "en"}, follow_redirects=False
    )


async def closed_conversation(server: LiveServer, rt: Runtime, officer: Persona) -> str:
    conversation_id, token = await start_conversation(server)
    ws, _ = await visitor_socket(server, token)
    await send_text(ws, "Mon voisin me harcèle <script>alert(1)</script>")
    await ws.close()
    await conversation_actions.take_conversation(
        rt, staff=identity(officer), conversation_id=conversation_id
    )
    await conversation_actions.close_conversation(
        rt, staff=identity(officer), conversation_id=conversation_id, qualification=QUALIFICATION
    )
    return conversation_id


async def test_the_page_prints_the_sha256_of_the_text_version(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona
) -> None:
    conversation_id = await closed_conversation(live_server, rt, officer_paris)
    async with await logged_in(live_server, officer_paris) as client:
        page = await client.get(f"/staff/conversations/{conversation_id}/transcript")
        text = await client.get(f"/staff/conversations/{conversation_id}/transcript.txt")
    assert page.status_code == 200
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain; charset=utf-8")
    digest = hashlib.sha256(text.content).hexdigest()
    assert f"sha256 of transcript.txt = {digest}" in page.text
    assert conversation_id in page.text
    # Bodies are escaped, never markup; the print button is a static script (CSP).
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert 'src="/static/transcript.js"' in page.text
    assert "Mon voisin me harcèle" in text.text
    assert "Not included: internal notes" in page.text
    async with rt.reading() as session:
        formats = list(
            await session.scalars(
                select(AuditEvent.detail).where(
                    AuditEvent.conversation_id == conversation_id,
                    AuditEvent.action == "transcript.exported",
                )
            )
        )
    assert len(formats) == 2
    assert {re.search(r'"format":"(\w+)"', f).group(1) for f in formats} == {"html", "txt"}  # type: ignore[union-attr]


async def test_psychologists_admins_and_other_officers_cannot_export(
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    officer_national: Persona,
    psychologist: Persona,
    admin: Persona,
    supervisor: Persona,
) -> None:
    conversation_id = await closed_conversation(live_server, rt, officer_paris)
    for persona in (psychologist, admin, officer_national):
        async with await logged_in(live_server, persona) as client:
            for suffix in ("transcript", "transcript.txt"):
                response = await client.get(f"/staff/conversations/{conversation_id}/{suffix}")
                assert response.status_code == 403, (persona.role, suffix)
                assert "Mon voisin" not in response.text
    # Supervisors read every conversation.
    async with await logged_in(live_server, supervisor) as client:
        response = await client.get(f"/staff/conversations/{conversation_id}/transcript.txt")
        assert response.status_code == 200
        assert "Mon voisin me harcèle" in response.text


async def test_unknown_conversation_is_404_and_anonymous_is_sent_to_login(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    async with await logged_in(live_server, officer_paris) as client:
        response = await client.get("/staff/conversations/0123456789abcdef/transcript")
        assert response.status_code == 404
        response = await client.get("/staff/conversations/0123456789abcdef/transcript.txt")
        assert response.status_code == 404
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        response = await anonymous.get("/staff/conversations/0123456789abcdef/transcript")
        assert response.status_code in (303, 401)
