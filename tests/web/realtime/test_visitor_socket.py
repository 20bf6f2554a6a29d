"""The visitor protocol of DESIGN.md §4, spoken to a live server."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets

from tests.clients import send_text, start_conversation, visitor_socket
from tests.conftest import LiveServer


async def test_message_is_acknowledged_with_its_sequence_number_and_echoed(
    live_server: LiveServer,
) -> None:
    _, token = await start_conversation(live_server)
    ws, ready = await visitor_socket(live_server, token)
    assert ready["status"] == "waiting"
    ack = await send_text(ws, "Bonjour, j'ai besoin d'aide")
    assert ack["seq"] == 1
    echo = await ws.expect("message", seq=1)
    assert echo["author"] == "visitor"
    assert echo["body"] == "Bonjour, j'ai besoin d'aide"
    await ws.close()


async def test_resending_the_same_client_id_stores_one_message(live_server: LiveServer) -> None:
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    client_id = str(uuid.uuid4())
    first = await send_text(ws, "une seule fois", client_id)
    second = await send_text(ws, "une seule fois", client_id)
    assert first["seq"] == second["seq"] == 1
    await send_text(ws, "la suite")
    await ws.close()
    # A fresh socket replays everything: the resent message is there once.
    ws, ready = await visitor_socket(live_server, token)
    assert ready["last_seq"] == 2
    replay = [await ws.expect("message") for _ in range(2)]
    assert [m["body"] for m in replay] == ["une seule fois", "la suite"]
    assert [f for f in await ws.quiet() if f["type"] == "message"] == []
    await ws.close()


async def test_resume_returns_exactly_the_missing_messages_in_order(
    live_server: LiveServer,
) -> None:
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    for n in range(1, 8):
        await send_text(ws, f"message {n}")
    await ws.close()
    ws, _ = await visitor_socket(live_server, token, resume=4)
    replay = [await ws.expect("message") for _ in range(3)]
    assert [(m["seq"], m["body"]) for m in replay] == [
        (5, "message 5"),
        (6, "message 6"),
        (7, "message 7"),
    ]
    assert [f for f in await ws.quiet() if f["type"] == "message"] == []
    await ws.close()


async def test_malformed_frames_get_an_error_and_the_socket_stays_usable(
    live_server: LiveServer,
) -> None:
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    for bad in [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": "dance"}',
        '{"type": "send", "body": "x", "client_id": "nope"}',
    ]:
        await ws.send(bad)
        error = await ws.expect("error")
        assert error["code"] == "bad_frame"
        assert error["message"]
    await ws.send({"type": "resume", "after_seq": -3})
    assert (await ws.expect("error"))["code"] == "bad_frame"
    assert (await send_text(ws, "toujours là"))["seq"] == 1
    await ws.close()


async def test_oversized_frame_and_message_are_refused_clearly(live_server: LiveServer) -> None:
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    await ws.send("x" * 20_000)
    assert (await ws.expect("error"))["code"] == "frame_too_large"
    await ws.send({"type": "send", "client_id": str(uuid.uuid4()), "body": "y" * 4001})
    error = await ws.expect("error")
    assert error["code"] == "message_too_long"
    assert "4,000" in error["message"]
    await ws.send({"type": "send", "client_id": str(uuid.uuid4()), "body": "   "})
    assert (await ws.expect("error"))["code"] == "message_empty"
    # Exactly at the limit is fine.
    assert (await send_text(ws, "z" * 4000))["seq"] == 1
    await ws.close()


@pytest.mark.parametrize(
    "first_frame",
    [
        {"type": "auth", "token": "forged-token-forged-token-forged-token-123"},
        {"type": "auth", "token": ""},
        {"type": "auth"},
        {"type": "send", "client_id": "x", "body": "hello"},
    ],
)
async def test_forged_or_missing_token_is_refused_with_a_clear_code(
    live_server: LiveServer, first_frame: dict[str, str]
) -> None:
    async with websockets.connect(f"{live_server.ws_url}/ws/visitor?lang=en") as raw:
        await raw.send(json.dumps(first_frame))
        error = json.loads(await asyncio.wait_for(raw.recv(), 10))
        assert error == {
            "type": "error",
            "code": "token_invalid",
            "message": "This conversation cannot be found. It may have been erased or closed.",
        }
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(raw.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_waiting_visitor_is_told_their_queue_position(live_server: LiveServer) -> None:
    _, token_a = await start_conversation(live_server)
    _, token_b = await start_conversation(live_server)
    ws_a, _ = await visitor_socket(live_server, token_a)
    ws_b, _ = await visitor_socket(live_server, token_b)
    position_a = (await ws_a.expect("queue"))["position"]
    position_b = (await ws_b.expect("queue"))["position"]
    assert position_b == position_a + 1
    await ws_a.close()
    await ws_b.close()


async def test_erase_unlinks_the_token(live_server: LiveServer) -> None:
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    await send_text(ws, "à effacer")
    await ws.send({"type": "erase"})
    await ws.expect("erased")
    async with websockets.connect(f"{live_server.ws_url}/ws/visitor") as raw:
        await raw.send(json.dumps({"type": "auth", "token": token}))
        error = json.loads(await asyncio.wait_for(raw.recv(), 10))
        assert error["code"] == "token_invalid"
