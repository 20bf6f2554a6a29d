"""The management pages of canned replies through the live server: who may use them, forms
with field errors that keep what was typed, and the audit log."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.replies.models import CannedReply
from confide.runtime import Runtime
from tests.clients import staff_login
from tests.conftest import LiveServer, Persona


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def reply_titled(rt: Runtime, title: str) -> CannedReply | None:
    async with rt.reading() as session:
        found: CannedReply | None = await session.scalar(
            select(CannedReply).where(CannedReply.title == title)
        )
        return found


async def test_officers_cannot_open_the_replies_pages(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    cookies = await staff_login(live_server, officer_paris)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as client:
        assert (await client.get("/staff/replies")).status_code == 403
        refused = await client.post(
            "/staff/replies",
            data={"csrf": "x", "title": "t", "body": "b", "channel": "all", "lang": "fr"},
        )
        assert refused.status_code == 403


async def test_an_admin_creates_edits_and_deletes_a_reply(
    rt: Runtime, live_server: LiveServer, admin: Persona, supervisor: Persona
) -> None:
    title = f"Safety check {uuid.uuid4().hex[:6]}"
    cookies = await staff_login(live_server, admin)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as client:
        page = await client.get("/staff/replies?lang=en")
        assert page.status_code == 200
        assert "<h1>Canned replies</h1>" in page.text
        csrf = csrf_of(page.text)
        fields = {"csrf": csrf, "title": title, "channel": "domestic", "lang": "en"}
        forged = await client.post(
            "/staff/replies", data={**fields, "csrf": "forged", "body": "Are you safe?"}
        )
        assert forged.status_code == 403

        # Mistakes: each field says what is wrong, and what was typed stays in the form.
        wrong = await client.post(
            "/staff/replies?lang=en",
            data={**fields, "title": "", "body": "Are you safe right now?", "lang": "de"},
        )
        assert wrong.status_code == 422
        assert "Give the reply a short title." in wrong.text
        assert "Choose the language of the reply." in wrong.text
        assert ">Are you safe right now?</textarea>" in wrong.text
        assert 'value="domestic" checked' in wrong.text
        assert 'aria-invalid="true"' in wrong.text
        too_long = await client.post("/staff/replies?lang=en", data={**fields, "body": "x" * 4001})
        assert too_long.status_code == 422
        assert "4,000 characters at most" in too_long.text
        assert f'value="{title}"' in too_long.text
        assert await reply_titled(rt, title) is None

        created = await client.post(
            "/staff/replies?lang=en",
            data={**fields, "body": "Are you safe right now?\r\nCall 17."},
        )
        assert created.status_code == 303
        reply = await reply_titled(rt, title)
        assert reply is not None
        assert (reply.body, reply.channel, reply.lang) == (
            "Are you safe right now?\nCall 17.",
            "domestic",
            "en",
        )
        assert reply.updated_by == admin.id
        listing = await client.get("/staff/replies?lang=en")
        group = listing.text.split("Domestic violence · English", 1)[1].split("</section>", 1)[0]
        assert title in group

        edit_url = f"/staff/replies/{reply.id}"
        edit_page = await client.get(f"{edit_url}?lang=en")
        assert edit_page.status_code == 200
        assert "Are you safe right now?" in edit_page.text
        bad_edit = await client.post(
            f"{edit_url}?lang=en",
            data={**fields, "body": "Edited text", "channel": "everywhere"},
        )
        assert bad_edit.status_code == 422
        assert "Choose the chat this reply is for, or all chats." in bad_edit.text
        assert ">Edited text</textarea>" in bad_edit.text
        edited = await client.post(
            edit_url, data={**fields, "body": "Edited text", "channel": "all"}
        )
        assert edited.status_code == 303
        reply = await reply_titled(rt, title)
        assert reply is not None
        assert (reply.body, reply.channel) == ("Edited text", "all")

        deleted = await client.post(f"{edit_url}/delete", data={"csrf": csrf})
        assert deleted.status_code == 303
        assert await reply_titled(rt, title) is None
        assert (await client.get(edit_url)).status_code == 404

    async with rt.reading() as session:
        events = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "reply.changed")
                .order_by(AuditEvent.id)
            )
        )
    mine = [e for e in events if json.loads(e.detail)["reply_id"] == reply.id]
    assert [json.loads(e.detail)["op"] for e in mine] == ["created", "updated", "deleted"]
    assert {e.actor_staff_id for e in mine} == {admin.id}
    assert all(title not in e.detail and "Edited" not in e.detail for e in mine)

    supervisor_cookies = await staff_login(live_server, supervisor)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=supervisor_cookies) as client:
        assert (await client.get("/staff/replies")).status_code == 200
