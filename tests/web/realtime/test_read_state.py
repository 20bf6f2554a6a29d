"""Read state: each side sees that the other has read its messages, across reconnects."""

from __future__ import annotations

from tests.clients import (
    officer_takes,
    send_text,
    staff_login,
    staff_socket,
    start_conversation,
    visitor_socket,
)
from tests.conftest import LiveServer, Persona


async def test_each_side_is_told_when_the_other_has_read(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    first = await send_text(visitor, "Il me surveille")
    cookies = await staff_login(live_server, officer_paris)
    officer, _ = await staff_socket(live_server, cookies)
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("message", seq=first["seq"])

    await officer.send({"type": "read", "conversation_id": conversation_id, "seq": 2})
    assert (await visitor.expect("read"))["seq"] == 2

    reply = await send_text(officer, "Je vous lis.", conversation_id=conversation_id)
    await visitor.expect("message", seq=reply["seq"])
    await visitor.send({"type": "read", "seq": reply["seq"]})
    told = await officer.expect("read", conversation_id=conversation_id)
    assert told["seq"] == reply["seq"]

    # Known after a reload, on both sides.
    await visitor.close()
    _, ready = await visitor_socket(live_server, token)
    assert ready["staff_read_seq"] == 2
    await officer.close()
    again, hello = await staff_socket(live_server, cookies)
    assert [c["visitor_read_seq"] for c in hello["conversations"]] == [reply["seq"]]
    await again.close()


async def test_read_positions_only_move_forward_and_never_past_the_last_message(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "Bonjour")
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await officer.expect("message", seq=2)

    await visitor.send({"type": "read", "seq": 99})  # beyond the last message: ignored
    await officer.send({"type": "read", "conversation_id": conversation_id, "seq": 2})
    await visitor.expect("read", seq=2)
    await officer.send({"type": "read", "conversation_id": conversation_id, "seq": 1})  # backwards
    assert not [f for f in await visitor.quiet() if f["type"] == "read"]
    assert not [f for f in await officer.quiet() if f["type"] == "read"]

    for bad in ({"type": "read"}, {"type": "read", "seq": "2"}, {"type": "read", "seq": True}):
        await visitor.send(bad)
        assert (await visitor.expect("error"))["code"] == "bad_frame"
    await visitor.close()
    await officer.close()


async def test_a_colleague_who_is_not_in_charge_does_not_mark_it_read(
    live_server: LiveServer, officer_paris: Persona, supervisor: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "Bonjour")
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    boss, _ = await staff_socket(live_server, await staff_login(live_server, supervisor))
    await boss.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
    await boss.expect("opened")
    await boss.send({"type": "read", "conversation_id": conversation_id, "seq": 2})
    assert not [f for f in await visitor.quiet() if f["type"] == "read"]
    for ws in (visitor, officer, boss):
        await ws.close()
