"""Hand-offs to a psychologist and supervision over the staff socket, against the live server:
what the officer, the psychologist, the supervisor and the visitor each see."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from confide.runtime import Runtime
from tests.clients import (
    FrameSocket,
    officer_takes,
    send_text,
    staff_login,
    staff_socket,
    start_conversation,
    visitor_socket,
)
from tests.conftest import LiveServer, Persona, make_staff
from tests.handoff.support import (
    audit_actions,
    clean,  # noqa: F401  (fixture)
    drop_team,
    team_for,
)

pytestmark = pytest.mark.usefixtures("clean")


async def on_duty_socket(
    server: LiveServer, persona: Persona
) -> tuple[FrameSocket, dict[str, Any]]:
    """The persona's console, open and "available"."""
    ws, hello = await staff_socket(server, await staff_login(server, persona))
    await ws.send({"type": "availability", "value": "available"})
    await ws.expect("availability", value="available")
    return ws, hello


async def staff_send(ws: FrameSocket, conversation_id: str, body: str) -> dict[str, Any]:
    client_id = str(uuid.uuid4())
    await ws.send(
        {"type": "send", "conversation_id": conversation_id, "client_id": client_id, "body": body}
    )
    return await ws.expect("ack", client_id=client_id)


async def test_handoff_with_the_officer_staying_as_observer(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    cookies = await staff_login(live_server, officer_paris)
    officer, _ = await staff_socket(live_server, cookies)
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("opened")
    visitor, _ = await visitor_socket(live_server, token)
    psy, hello = await on_duty_socket(live_server, psychologist)
    assert isinstance(hello["handoffs"], list)
    try:
        await send_text(visitor, "I do not feel well at all.")
        await officer.send(
            {
                "type": "handoff_request",
                "conversation_id": conversation_id,
                "note": "Panic attacks, wants to talk to someone",
                "stay": True,
            }
        )
        pending = await officer.expect("handoff_pending", conversation_id=conversation_id)
        handoff_id = pending["handoff_id"]

        # The psychologist's console is told, and the list carries the note.
        await psy.expect("handoffs_changed")
        await psy.send({"type": "handoff_list"})
        listed = await psy.expect("handoffs")
        [item] = [i for i in listed["items"] if i["handoff_id"] == handoff_id]
        assert item["note"] == "Panic attacks, wants to talk to someone"
        assert (item["channel"], item["role"], item["departement"]) == ("domestic", "victim", "75")

        # Reading the history: opened read-only, and recorded.
        await psy.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
        opened = await psy.expect("opened")
        assert opened["participation"] == "reader"
        await psy.expect("message", body="I do not feel well at all.")
        assert "conversation.read" in await audit_actions(rt, conversation_id, actor=psychologist)

        # The officer keeps chatting while the request is pending.
        await staff_send(officer, conversation_id, "Someone is coming, stay with me.")

        await psy.send({"type": "handoff_accept", "handoff_id": handoff_id})
        mine = await psy.expect("opened", participation="in_charge")
        assert mine["conversation"]["conversation_id"] == conversation_id
        assert any(
            t["note"] == "Panic attacks, wants to talk to someone" for t in mine["transfers"]
        )
        told = await visitor.expect("message", author="system", body="transferred_psychologist")
        assert "Panic attacks" not in str(visitor.seen)
        accepted = await officer.expect("handoff_accepted", conversation_id=conversation_id)
        assert accepted["stay"] is True

        # The psychologist writes: the visitor and the observing officer receive it.
        await staff_send(psy, conversation_id, "Hello, I am a psychologist. I am here.")
        await visitor.expect("message", author="psychologist", seq=told["seq"] + 1)
        await officer.expect(
            "message", author="psychologist", body="Hello, I am a psychologist. I am here."
        )
        await send_text(visitor, "Thank you.")
        await officer.expect("message", author="visitor", body="Thank you.")
        await psy.expect("message", author="visitor", body="Thank you.")

        # The observer sees the psychologist typing; the psychologist does not see their own.
        await psy.send({"type": "typing", "conversation_id": conversation_id})
        await officer.expect("typing", conversation_id=conversation_id, author="psychologist")
        await visitor.expect("typing", author="psychologist")
        assert not [f for f in await psy.quiet() if f.get("type") == "typing"]

        # The observer cannot write.
        await officer.send(
            {
                "type": "send",
                "conversation_id": conversation_id,
                "client_id": str(uuid.uuid4()),
                "body": "Can I still talk?",
            }
        )
        refused = await officer.expect("error")
        assert refused["code"] == "forbidden"
        assert "observer" in refused["message"]
        assert not [f for f in officer.seen if f.get("type") == "released"]

        # After a reconnect the observer gets the conversation back through `hello`.
        await officer.close()
        officer, hello_again = await staff_socket(live_server, cookies)
        assert {"conversation_id": conversation_id, "mode": "observer"} in hello_again[
            "participations"
        ]
        await officer.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
        assert (await officer.expect("opened"))["participation"] == "observer"

        # Leaving ends it.
        await officer.send({"type": "conversation_leave", "conversation_id": conversation_id})
        left = await officer.expect("released", conversation_id=conversation_id)
        assert left["reason"] == "left"
    finally:
        for ws in (officer, visitor, psy):
            await ws.close()


async def test_officer_who_leaves_is_released_and_no_psychologist_means_an_error_at_once(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    visitor, _ = await visitor_socket(live_server, token)
    try:
        await officer.send(
            {
                "type": "handoff_request",
                "conversation_id": conversation_id,
                "note": "",
                "stay": False,
            }
        )
        error = await officer.expect("error")
        assert error["code"] == "no_psychologist"
        assert "handoff.requested" not in await audit_actions(rt, conversation_id)

        psy, _ = await on_duty_socket(live_server, psychologist)
        try:
            await officer.send(
                {
                    "type": "handoff_request",
                    "conversation_id": conversation_id,
                    "note": "",
                    "stay": False,
                }
            )
            handoff_id = (await officer.expect("handoff_pending"))["handoff_id"]
            # Wrong types are refused.
            await psy.send({"type": "handoff_accept", "handoff_id": str(handoff_id)})
            assert (await psy.expect("error"))["code"] == "bad_frame"
            await psy.send({"type": "handoff_accept", "handoff_id": handoff_id})
            await psy.expect("opened", participation="in_charge")
            released = await officer.expect("released", conversation_id=conversation_id)
            assert released["reason"] == "handoff"
            await staff_send(psy, conversation_id, "Hello from the psychologist.")
            await visitor.expect(
                "message", author="psychologist", body="Hello from the psychologist."
            )
            # An officer cannot accept, and the psychologist cannot ask.
            await officer.send({"type": "handoff_accept", "handoff_id": handoff_id})
            assert (await officer.expect("error"))["code"] == "forbidden"
        finally:
            await psy.close()
    finally:
        await officer.close()
        await visitor.close()


async def test_cancel_over_the_socket(
    live_server: LiveServer, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    psy, _ = await on_duty_socket(live_server, psychologist)
    try:
        await officer.send(
            {
                "type": "handoff_request",
                "conversation_id": conversation_id,
                "note": "n",
                "stay": False,
            }
        )
        handoff_id = (await officer.expect("handoff_pending"))["handoff_id"]
        await psy.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
        await psy.expect("opened", participation="reader")
        await officer.send({"type": "handoff_cancel", "handoff_id": handoff_id})
        await officer.expect("handoff_cancelled", handoff_id=handoff_id)
        # The psychologist reading it loses it; accepting is refused clearly.
        await psy.expect("released", conversation_id=conversation_id, reason="handoff_cancelled")
        await psy.send({"type": "handoff_accept", "handoff_id": handoff_id})
        assert (await psy.expect("error"))["code"] == "handoff_withdrawn"
        await psy.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
        assert (await psy.expect("error"))["code"] == "forbidden"
    finally:
        await officer.close()
        await psy.close()


async def test_supervisor_lists_reads_joins_and_reassigns(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, supervisor: Persona
) -> None:
    colleague = await make_staff(rt, "officer")
    team_id = await team_for(rt, [supervisor, officer_paris, colleague])
    conversation_id, token = await start_conversation(live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    visitor, _ = await visitor_socket(live_server, token)
    sup, _ = await staff_socket(live_server, await staff_login(live_server, supervisor))
    other, _ = await staff_socket(live_server, await staff_login(live_server, colleague))
    try:
        await sup.send({"type": "supervision_list"})
        live = await sup.expect("live_conversations")
        [item] = [i for i in live["items"] if i["conversation_id"] == conversation_id]
        assert item["in_charge"]["role"] == "officer"
        assert item["in_charge"]["display_name"]
        assert item["channel"] == "domestic"
        assert item["departement"] == "75"
        # Officers may not supervise.
        await officer.send({"type": "supervision_list"})
        assert (await officer.expect("error"))["code"] == "forbidden"

        await sup.send({"type": "supervise_read", "conversation_id": conversation_id})
        assert (await sup.expect("opened"))["participation"] == "observer"
        assert "conversation.read" in await audit_actions(rt, conversation_id, actor=supervisor)

        await sup.send({"type": "supervise_join", "conversation_id": conversation_id})
        await sup.expect("opened", participation="member")
        await visitor.expect("message", author="system", body="assigned_supervisor")
        await staff_send(sup, conversation_id, "Hello, I am the supervisor.")
        await visitor.expect("message", author="supervisor", body="Hello, I am the supervisor.")
        await officer.expect("message", author="supervisor", body="Hello, I am the supervisor.")

        await sup.send({"type": "reassign_targets", "conversation_id": conversation_id})
        targets = await sup.expect("reassign_targets")
        ids = [t["id"] for t in targets["staff"]]
        assert colleague.id in ids
        assert officer_paris.id not in ids
        await sup.send(
            {
                "type": "reassign",
                "conversation_id": conversation_id,
                "to_staff_id": colleague.id,
                "note": "Please take over",
            }
        )
        await sup.expect("reassigned", conversation_id=conversation_id)
        released = await officer.expect("released", conversation_id=conversation_id)
        assert released["reason"] == "reassigned"
        assert (await other.expect("opened"))["conversation"]["conversation_id"] == conversation_id
        await visitor.expect("message", author="system", body="transferred_officer")
        await staff_send(other, conversation_id, "I take over from my colleague.")
        await visitor.expect("message", author="officer", body="I take over from my colleague.")
        assert "conversation.reassigned" in await audit_actions(
            rt, conversation_id, actor=supervisor
        )
    finally:
        for ws in (officer, visitor, sup, other):
            await ws.close()
        await drop_team(rt, team_id)
