"""Case work on the staff socket: notes and flags reach consoles, never the visitor;
supervisors are alerted; closing needs a complete qualification."""

from __future__ import annotations

from tests.casework.helpers import QUALIFICATION_FRAME
from tests.clients import (
    FrameSocket,
    officer_takes,
    send_text,
    staff_login,
    staff_socket,
    start_conversation,
    visitor_socket,
)
from tests.conftest import LiveServer, Persona


async def supervisor_console(server: LiveServer, supervisor: Persona) -> FrameSocket:
    ws, _ = await staff_socket(server, await staff_login(server, supervisor))
    return ws


async def test_notes_and_flags_reach_consoles_but_never_the_visitor(
    live_server: LiveServer, officer_paris: Persona, supervisor: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "Il est devant la porte")
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    watcher = await supervisor_console(live_server, supervisor)
    await watcher.send({"type": "open", "conversation_id": conversation_id})
    opened = await watcher.expect("opened")
    assert opened["flags"] == []
    assert opened["notes"] == []
    await visitor.expect("assigned")
    await visitor.quiet()

    await officer.send(
        {"type": "note_add", "conversation_id": conversation_id, "body": "Couteau mentionné"}
    )
    mine = await officer.expect("notes", conversation_id=conversation_id)
    assert [(n["body"], n["author_role"]) for n in mine["notes"]] == [
        ("Couteau mentionné", "officer")
    ]
    # The other console is only told to ask again; it then gets the list.
    await watcher.expect("notes_changed", conversation_id=conversation_id)
    await watcher.send({"type": "notes", "conversation_id": conversation_id})
    listed = await watcher.expect("notes", conversation_id=conversation_id)
    assert listed["notes"][0]["body"] == "Couteau mentionné"

    await officer.send(
        {"type": "flag_set", "conversation_id": conversation_id, "flag": "danger", "on": True}
    )
    changed = await officer.expect("flags_changed", conversation_id=conversation_id)
    assert changed["flags"] == ["danger"]
    alert = await watcher.expect("flag_alert", conversation_id=conversation_id)
    assert alert["flag"] == "danger"
    assert alert["channel"] == "domestic"
    assert alert["departement"] == "75"
    assert alert["by_role"] == "officer"
    assert "Couteau" not in str(alert)

    # The visitor saw none of it.
    frames = await visitor.quiet(0.5)
    assert frames == [], frames

    # Opening again (a reconnect) brings notes and flags with the conversation.
    await officer.send({"type": "open", "conversation_id": conversation_id})
    reopened = await officer.expect("opened")
    assert reopened["flags"] == ["danger"]
    assert [n["body"] for n in reopened["notes"]] == ["Couteau mentionné"]
    for ws in (officer, watcher, visitor):
        await ws.close()


async def test_frames_are_checked_and_only_the_people_in_charge_act(
    live_server: LiveServer, officer_paris: Persona, officer_national: Persona, admin: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    for bad in (
        {"type": "note_add", "conversation_id": conversation_id, "body": 12},
        {"type": "flag_set", "conversation_id": conversation_id, "flag": "danger", "on": "yes"},
        {"type": "flag_set", "conversation_id": conversation_id, "flag": 1, "on": True},
        {"type": "note_add", "body": "x"},
    ):
        await officer.send(bad)
        assert (await officer.expect("error"))["code"] == "bad_frame", bad
    await officer.send({"type": "note_add", "conversation_id": conversation_id, "body": "x" * 2001})
    assert (await officer.expect("error"))["code"] == "note_too_long"
    await officer.send(
        {"type": "flag_set", "conversation_id": conversation_id, "flag": "lunch", "on": True}
    )
    assert (await officer.expect("error"))["code"] == "flag_invalid"

    other, _ = await staff_socket(live_server, await staff_login(live_server, officer_national))
    for frame in (
        {"type": "note_add", "conversation_id": conversation_id, "body": "x"},
        {"type": "flag_set", "conversation_id": conversation_id, "flag": "minor", "on": True},
        {"type": "close", "conversation_id": conversation_id, "qualification": QUALIFICATION_FRAME},
    ):
        await other.send(frame)
        assert (await other.expect("error"))["code"] == "forbidden", frame
    # Not followed by this console: no notes.
    await other.send({"type": "notes", "conversation_id": conversation_id})
    assert (await other.expect("error"))["code"] == "bad_frame"

    admin_ws, _ = await staff_socket(live_server, await staff_login(live_server, admin))
    for kind in ("note_add", "flag_set", "close", "close_prefill", "notes"):
        await admin_ws.send({"type": kind, "conversation_id": conversation_id})
        assert (await admin_ws.expect("error"))["code"] == "forbidden", kind
    for ws in (officer, other, admin_ws):
        await ws.close()


async def test_closing_needs_a_qualification_and_says_what_is_missing(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await officer.send({"type": "close_prefill", "conversation_id": conversation_id})
    prefill = await officer.expect("close_prefill", conversation_id=conversation_id)
    assert prefill["channel"] == "domestic"
    assert prefill["outcomes"] == []

    await officer.send({"type": "close", "conversation_id": conversation_id})
    error = await officer.expect("error")
    assert error["code"] == "qualification_invalid"
    assert "chat type" in error["message"]
    assert "outcome" in error["message"]
    await officer.send(
        {
            "type": "close",
            "conversation_id": conversation_id,
            "qualification": {"channel": "domestic", "offence": "no", "outcomes": []},
        }
    )
    error = await officer.expect("error")
    assert error["message"] == "Please tick at least one outcome before closing."
    await visitor.expect("assigned")
    assert [f for f in await visitor.quiet(0.4) if f["type"] == "closed"] == []

    await officer.send(
        {
            "type": "close",
            "conversation_id": conversation_id,
            "qualification": {
                "channel": "discrimination",
                "offence": "unknown",
                "outcomes": ["information", "guidance"],
            },
        }
    )
    await officer.expect("closed", conversation_id=conversation_id)
    await visitor.expect("closed")
    await officer.close()
    await visitor.close()


async def test_flagged_waiting_conversations_show_their_flags_in_the_queue(
    live_server: LiveServer, supervisor: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server, postcode="48000")
    ws = await supervisor_console(live_server, supervisor)
    await ws.send(
        {"type": "flag_set", "conversation_id": conversation_id, "flag": "minor", "on": True}
    )
    changed = await ws.expect("flags_changed", conversation_id=conversation_id)
    assert changed["flags"] == ["minor"]
    await ws.expect("flag_alert", conversation_id=conversation_id)
    while True:
        queue = await ws.expect("queue")
        items = {i["conversation_id"]: i for i in queue["items"]}
        if items.get(conversation_id, {}).get("flags"):
            break
    assert items[conversation_id]["flags"] == ["minor"]
    assert items[conversation_id]["priority"] == 1
    await ws.close()
