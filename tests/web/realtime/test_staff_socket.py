"""The staff socket: authentication at the handshake, permissions per frame, and a live
conversation between a visitor and an officer."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from confide.security.permissions import Permission
from confide.web.realtime.staff import FRAME_PERMISSIONS
from tests.clients import send_text, staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona


async def test_officer_takes_a_conversation_and_both_exchange_messages(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server, postcode="75011")
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "Mon conjoint me menace")
    officer, hello = await staff_socket(live_server, await staff_login(live_server, officer_paris))
    assert hello["staff"]["role"] == "officer"
    queue = await officer.expect("queue")
    waiting = {item["conversation_id"]: item for item in queue["items"]}
    assert waiting[conversation_id]["departement"] == "75"
    assert waiting[conversation_id]["channel"] == "domestic"

    await officer.send({"type": "take", "conversation_id": conversation_id})
    opened = await officer.expect("opened")
    assert opened["conversation"]["conversation_id"] == conversation_id
    first = await officer.expect("message", conversation_id=conversation_id, seq=1)
    assert first["body"] == "Mon conjoint me menace"
    assigned = await visitor.expect("assigned")
    assert assigned["role"] == "officer"
    assert (await visitor.expect("message", seq=2))["author"] == "system"

    await send_text(officer, "Je suis là. Êtes-vous en sécurité ?", conversation_id=conversation_id)
    reply = await visitor.expect("message", seq=3)
    assert reply["author"] == "officer"
    assert reply["body"] == "Je suis là. Êtes-vous en sécurité ?"
    await send_text(visitor, "Oui pour l'instant")
    assert (await officer.expect("message", seq=4))["body"] == "Oui pour l'instant"

    await officer.send(
        {
            "type": "close",
            "conversation_id": conversation_id,
            "qualification": {"channel": "domestic", "offence": "yes", "outcomes": ["information"]},
        }
    )
    await visitor.expect("closed")
    await visitor.send(
        {"type": "send", "client_id": "4b7f0f3e-0d55-4a9e-9d8c-1d3f6f0e2a11", "body": "encore ?"}
    )
    assert (await visitor.expect("error"))["code"] == "conversation_closed"
    await visitor.close()
    await officer.close()


async def test_a_conversation_is_taken_by_one_officer_only(
    live_server: LiveServer, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    first, _ = await staff_socket(live_server, await staff_login(live_server, officer_paris))
    second, _ = await staff_socket(live_server, await staff_login(live_server, officer_national))
    await first.send({"type": "take", "conversation_id": conversation_id})
    await second.send({"type": "take", "conversation_id": conversation_id})
    # Either may win the race, never both.
    outcomes = {}
    for ws in (first, second):
        while True:
            frame = await ws.recv()
            if frame["type"] in ("opened", "error"):
                outcomes[ws] = frame
                break
    kinds = sorted(frame["type"] for frame in outcomes.values())
    assert kinds == ["error", "opened"]
    winner, loser = (first, second) if outcomes[first]["type"] == "opened" else (second, first)
    assert outcomes[loser]["code"] == "already_taken"
    # The loser cannot write in it either.
    await loser.send(
        {
            "type": "send",
            "conversation_id": conversation_id,
            "client_id": "6f1c1f47-3f0e-4d1b-8a3e-0a3c0b7c2d10",
            "body": "x",
        }
    )
    assert (await loser.expect("error"))["code"] == "forbidden"
    await winner.close()
    await loser.close()


async def test_staff_socket_refuses_missing_session_and_foreign_origin(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    async with websockets.connect(f"{live_server.ws_url}/ws/staff") as raw:
        error = json.loads(await asyncio.wait_for(raw.recv(), 10))
        assert error["code"] == "session_invalid"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(raw.recv(), 10)
    cookies = await staff_login(live_server, officer_paris)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    async with websockets.connect(
        f"{live_server.ws_url}/ws/staff",
        additional_headers={"Cookie": cookie},
        origin=websockets.Origin("https://evil.example"),
    ) as raw:
        error = json.loads(await asyncio.wait_for(raw.recv(), 10))
        assert error["code"] == "forbidden"


async def test_roles_without_chat_permission_cannot_take_or_read(
    live_server: LiveServer, admin: Persona, prosecutor: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    for persona in (admin, prosecutor):
        ws, _ = await staff_socket(live_server, await staff_login(live_server, persona))
        for kind in ("take", "open", "close"):
            await ws.send({"type": kind, "conversation_id": conversation_id})
            assert (await ws.expect("error"))["code"] == "forbidden", (persona.role, kind)
        frames = await ws.quiet()
        assert not [f for f in frames if f["type"] == "queue"], (
            "the queue is not shown without permission"
        )
        await ws.close()


async def test_every_staff_frame_type_declares_a_permission() -> None:
    assert all(isinstance(p, Permission) for p in FRAME_PERMISSIONS.values())
    assert set(FRAME_PERMISSIONS) >= {
        "take",
        "open",
        "send",
        "typing",
        "close",
        "ping",
        "take_next",
        "transfer",
        "transfer_targets",
        "availability",
        "identity_view",
        "referrals",
        "send_referral",
    }


async def test_staff_reconnecting_catches_up_from_their_last_seq(
    live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    cookies = await staff_login(live_server, officer_paris)
    officer, _ = await staff_socket(live_server, cookies)
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("message", seq=1)
    await officer.close()
    # While the officer is away, the visitor writes.
    for n in range(3):
        await send_text(visitor, f"pendant la coupure {n}")
    officer, hello = await staff_socket(live_server, cookies)
    assert [c["conversation_id"] for c in hello["conversations"]] == [conversation_id]
    await officer.send({"type": "open", "conversation_id": conversation_id, "after_seq": 1})
    replay = [await officer.expect("message", conversation_id=conversation_id) for _ in range(3)]
    assert [m["seq"] for m in replay] == [2, 3, 4]
    await officer.close()
    await visitor.close()
