"""`/ws/staff`: the console of officers, psychologists and supervisors.

Authenticated by the staff session cookie at the handshake; each frame type needs its own
permission (FRAME_PERMISSIONS), checked before it is handled.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Depends, WebSocket

from confide.conversations import actions, queries
from confide.conversations.models import Conversation
from confide.conversations.schemas import Author, AuthorKind
from confide.errors import DomainError, PermissionDenied, RateLimited
from confide.i18n import pick_lang
from confide.security.guards import runtime_of, socket_guard, staff_for_socket
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.realtime.connection import BadFrame, Connection, Disconnected
from confide.web.realtime.queue import QueueWatcher
from confide.web.realtime.visitor import CLOSE_UNAUTHORISED

router = APIRouter()

FRAME_PERMISSIONS: dict[str, Permission] = {
    "take": Permission.CONVERSATION_TAKE,
    "open": Permission.CONVERSATION_CHAT,
    "send": Permission.CONVERSATION_CHAT,
    "typing": Permission.CONVERSATION_CHAT,
    "close": Permission.CONVERSATION_CLOSE,
    "ping": Permission.STAFF_CONSOLE,
}


@router.websocket("/ws/staff", dependencies=[Depends(socket_guard(Permission.STAFF_CONSOLE))])
async def staff_socket(websocket: WebSocket) -> None:
    rt = runtime_of(websocket)
    await websocket.accept()
    connection = Connection(websocket, rt, pick_lang(websocket.query_params.get("lang")))
    try:
        staff = await staff_for_socket(websocket)
    except DomainError as error:
        with contextlib.suppress(Disconnected):
            await connection.send_error(error)
        await connection.close(CLOSE_UNAUTHORISED)
        return
    watcher: QueueWatcher = websocket.app.state.queue_watcher
    limiter = websocket.app.state.message_limiter
    pump: asyncio.Task[None] | None = None
    try:
        async with rt.reading() as session:
            mine = await queries.active_for_staff(session, staff.id)
        await connection.send(
            {
                "type": "hello",
                "staff": {"display_name": staff.display_name, "role": staff.role},
                "conversations": [summary(c) for c in mine],
            }
        )
        if staff.can(Permission.QUEUE_VIEW):
            watcher.staff.add(connection)
            watcher.changed()
        pump = asyncio.create_task(_pump(connection))
        while True:
            try:
                frame = await connection.receive_frame()
                await _handle(connection, staff, frame, limiter)
            except DomainError as error:
                await connection.send_error(error)
    except Disconnected:
        pass
    finally:
        watcher.staff.discard(connection)
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        await connection.close_feeds()


def summary(conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": conversation.id,
        "channel": conversation.channel,
        "role": conversation.visitor_role,
        "departement": conversation.departement,
        "status": conversation.status,
        "last_seq": conversation.last_seq,
    }


def _conversation_id(frame: dict[str, Any]) -> str:
    value = frame.get("conversation_id")
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise BadFrame()
    return value


async def _handle(
    connection: Connection, staff: StaffIdentity, frame: dict[str, Any], limiter: Any
) -> None:
    rt = connection.rt
    kind = frame["type"]
    permission = FRAME_PERMISSIONS.get(kind)
    if permission is None:
        raise BadFrame()
    if not staff.can(permission):
        raise PermissionDenied()
    if kind == "ping":
        await connection.send({"type": "pong"})
        return
    conversation_id = _conversation_id(frame)
    if kind == "take":
        conversation = await actions.take_conversation(
            rt, staff=staff, conversation_id=conversation_id
        )
        await _open(connection, conversation, after_seq=0)
    elif kind == "open":
        after = frame.get("after_seq", 0)
        if not isinstance(after, int) or after < 0:
            raise BadFrame()
        conversation = await actions.open_for_staff(
            rt, staff=staff, conversation_id=conversation_id
        )
        await _open(connection, conversation, after_seq=after)
    elif kind == "send":
        if not limiter.allow(f"staff:{staff.id}"):
            raise RateLimited()
        sent = await actions.send_message(
            rt,
            conversation_id=conversation_id,
            author=Author(AuthorKind(staff.role), staff.id),
            client_id=frame.get("client_id", ""),
            body=frame.get("body", ""),
        )
        await connection.send(
            {
                "type": "ack",
                "conversation_id": conversation_id,
                "client_id": sent.message.client_id,
                "seq": sent.message.seq,
            }
        )
    elif kind == "typing":
        if conversation_id in connection.feeds:
            await rt.bus.publish(
                actions.conversation_topic(conversation_id),
                {"type": "typing", "author": staff.role},
            )
    elif kind == "close":
        await actions.close_conversation(rt, staff=staff, conversation_id=conversation_id)


async def _open(connection: Connection, conversation: Conversation, *, after_seq: int) -> None:
    feed = await connection.follow(conversation.id, with_conversation=True)
    await connection.send({"type": "opened", "conversation": summary(conversation)})
    await feed.replay(after_seq)


async def _pump(connection: Connection) -> None:
    with contextlib.suppress(Disconnected):
        while True:
            kind, payload = await connection.inbox.get()
            if kind == "frame":
                await connection.send(payload)
                continue
            feed = connection.feeds.get(kind)
            if feed is None:
                continue
            event = payload.get("type")
            if event == "message":
                await feed.on_message(payload)
            elif event == "_resync":
                await feed.resync()
            elif event == "typing":
                if payload.get("author") == "visitor":
                    await connection.send(
                        {"type": "typing", "conversation_id": kind, "author": "visitor"}
                    )
            elif event in ("closed", "erased", "assigned"):
                await connection.send({**payload, "conversation_id": kind})
