"""Voluntary identity over the sockets: the visitor gives and withdraws it, the officer in
charge is told and reads it on request (audited)."""

from __future__ import annotations

from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.runtime import Runtime
from tests.clients import staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona


async def test_identity_frames_between_visitor_and_officer(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    officer, _ = await staff_socket(live_server, await staff_login(live_server, officer_paris))
    await officer.send({"type": "take", "conversation_id": conversation_id})
    opened = await officer.expect("opened")
    assert opened["has_identity"] is False

    await visitor.send({"type": "identity", "fields": {"name": ""}})
    assert (await visitor.expect("error"))["code"] == "identity_invalid"
    await visitor.send({"type": "identity", "fields": {"name": "Camille", "address": "1 rue X"}})
    await visitor.expect("identity_saved")
    changed = await officer.expect("identity_changed", conversation_id=conversation_id)
    assert changed["present"] is True
    # Being told is not reading: the fields come only when asked, and that is audited.
    assert "Camille" not in repr(officer.seen)
    await officer.send({"type": "identity_view", "conversation_id": conversation_id})
    shown = await officer.expect("identity", conversation_id=conversation_id)
    assert shown["fields"] == {"name": "Camille", "address": "1 rue X"}

    await visitor.send({"type": "identity_withdraw"})
    await visitor.expect("identity_withdrawn")
    assert (await officer.expect("identity_changed"))["present"] is False
    await officer.send({"type": "identity_view", "conversation_id": conversation_id})
    assert (await officer.expect("identity"))["fields"] is None
    await visitor.close()
    await officer.close()
    async with rt.reading() as session:
        viewed = await session.scalar(
            select(AuditEvent.actor_staff_id).where(
                AuditEvent.conversation_id == conversation_id,
                AuditEvent.action == "identity.viewed",
            )
        )
    assert viewed == officer_paris.id
