"""`/ws/visitor`: the anonymous visitor's socket (DESIGN.md §4).

The first frame must be `{"type": "auth", "token": ...}`; the token never travels in a URL.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, WebSocket
from sqlalchemy import select

from confide.conversations import actions
from confide.conversations.errors import TokenInvalid
from confide.conversations.models import Conversation
from confide.conversations.schemas import Author, AuthorKind, Status
from confide.disclosure import actions as disclosure_actions
from confide.errors import DomainError, RateLimited, ServiceUnavailable
from confide.i18n import pick_lang
from confide.security.guards import runtime_of, socket_guard
from confide.security.permissions import Permission
from confide.staff.models import StaffMember
from confide.web.errors import INFRASTRUCTURE_ERRORS
from confide.web.realtime.bus import Payload
from confide.web.realtime.connection import BadFrame, Connection, Disconnected, Feed
from confide.web.realtime.queue import QueueWatcher

router = APIRouter()
log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 15
CLOSE_UNAUTHORISED = 4401
CLOSE_ERASED = 4410
#: RFC 6455 "try again later": the client keeps its state and reconnects with backoff.
CLOSE_TRY_AGAIN = 1013


@router.websocket("/ws/visitor", dependencies=[Depends(socket_guard(Permission.VISITOR_CHAT))])
async def visitor_socket(websocket: WebSocket) -> None:
    rt = runtime_of(websocket)
    await websocket.accept()
    connection = Connection(websocket, rt, pick_lang(websocket.query_params.get("lang")))
    watcher: QueueWatcher = websocket.app.state.queue_watcher
    delivering = False
    conversation_id = ""
    try:
        try:
            first = await connection.receive_frame(timeout=AUTH_TIMEOUT_S)
            if first.get("type") != "auth":
                raise TokenInvalid()
            conversation = await actions.conversation_for_token(rt, first.get("token", ""))
        except INFRASTRUCTURE_ERRORS:
            # Not the visitor's fault: never answer "invalid token" (the page would forget
            # the conversation); ask to come back instead.
            await connection.send_error(ServiceUnavailable())
            await connection.close(CLOSE_TRY_AGAIN)
            return
        except (DomainError, BadFrame):
            await connection.send_error(TokenInvalid())
            await connection.close(CLOSE_UNAUTHORISED)
            return
        conversation_id = conversation.id
        limiter = websocket.app.state.message_limiter
        feed = await connection.follow(conversation_id, with_conversation=False)
        await connection.send(await _ready_frame(connection, conversation))
        watcher.visitors[conversation_id] = connection
        if conversation.status == Status.WAITING:
            watcher.changed()
        # Bus events and queue updates go out from a task that exists only while some are
        # waiting (no pump task per idle socket).
        connection.deliver_on_demand(
            lambda kind, payload: _deliver(connection, feed, kind, payload)
        )
        delivering = True
        while True:
            try:
                frame = await connection.receive_frame()
                kind = frame["type"]
                if kind == "send":
                    if not await limiter.allow(conversation_id):
                        raise RateLimited()
                    sent = await actions.send_message(
                        rt,
                        conversation_id=conversation_id,
                        author=Author(AuthorKind.VISITOR),
                        client_id=frame.get("client_id", ""),
                        body=frame.get("body", ""),
                    )
                    await connection.send(
                        {
                            "type": "ack",
                            "client_id": sent.message.client_id,
                            "seq": sent.message.seq,
                        }
                    )
                elif kind == "resume":
                    after = frame.get("after_seq", 0)
                    if not isinstance(after, int) or after < 0:
                        raise BadFrame()
                    await feed.replay(after)
                elif kind == "typing":
                    await rt.bus.publish(
                        actions.conversation_topic(conversation_id),
                        {"type": "typing", "author": "visitor"},
                    )
                elif kind in ("erase", "leave"):
                    await actions.visitor_leaves(rt, token=first["token"], erase=kind == "erase")
                    if kind == "erase":
                        await connection.send({"type": "erased"})
                        await connection.close(CLOSE_ERASED)
                        return
                elif kind == "identity":
                    await disclosure_actions.give_identity(
                        rt, conversation_id=conversation_id, fields=frame.get("fields")
                    )
                    await connection.send({"type": "identity_saved"})
                elif kind == "identity_withdraw":
                    await disclosure_actions.withdraw_identity(rt, conversation_id=conversation_id)
                    await connection.send({"type": "identity_withdrawn"})
                elif kind == "read":
                    await actions.mark_read(
                        rt,
                        conversation_id=conversation_id,
                        reader=Author(AuthorKind.VISITOR),
                        seq=read_position(frame),
                    )
                elif kind == "ping":
                    await connection.send({"type": "pong"})
                else:
                    raise BadFrame()
            except DomainError as error:
                await connection.send_error(error)
            except INFRASTRUCTURE_ERRORS:
                log.warning("database unavailable during a visitor frame")
                await connection.send_error(ServiceUnavailable())
    except Disconnected:
        pass
    except INFRASTRUCTURE_ERRORS:
        log.warning("database unavailable while opening a visitor socket")
        await connection.close(CLOSE_TRY_AGAIN)
    finally:
        if delivering:
            await connection.stop_delivery()
        if conversation_id and watcher.visitors.get(conversation_id) is connection:
            del watcher.visitors[conversation_id]
        await connection.close_feeds()


def read_position(frame: dict[str, Any]) -> int:
    """The `seq` of a `read` frame: a positive integer, or `BadFrame`."""
    seq = frame.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BadFrame()
    return seq


async def _ready_frame(connection: Connection, conversation: Conversation) -> dict[str, Any]:
    assigned = None
    if conversation.assigned_staff_id is not None:
        async with connection.rt.reading() as session:
            row = (
                await session.execute(
                    select(StaffMember.role, StaffMember.display_name).where(
                        StaffMember.id == conversation.assigned_staff_id
                    )
                )
            ).first()
        if row is not None:
            assigned = {"role": row.role, "display_name": row.display_name}
    return {
        "type": "ready",
        "conversation_id": conversation.id,
        "status": conversation.status,
        "channel": conversation.channel,
        "role": conversation.visitor_role,
        "last_seq": conversation.last_seq,
        # How far the staff member in charge has read (the visitor's messages show "read").
        "staff_read_seq": conversation.staff_read_seq,
        "assigned": assigned,
    }


async def _deliver(connection: Connection, feed: Feed, kind: str, payload: Payload) -> bool:
    """One bus event or queue update, to the visitor; False once the socket is done."""
    try:
        return await _deliver_event(connection, feed, kind, payload)
    except Disconnected:
        return False
    except INFRASTRUCTURE_ERRORS:
        # A catch-up read failed: let the client reconnect and resume from its last seq.
        log.warning("database unavailable while delivering to a visitor")
        await connection.close(CLOSE_TRY_AGAIN)
        return False


async def _deliver_event(connection: Connection, feed: Feed, kind: str, payload: Payload) -> bool:
    if kind == "frame":
        await connection.send(payload)
        return True
    event = payload.get("type")
    if event == "message":
        await feed.on_message(payload)
    elif event == "_resync":
        await feed.resync()
    elif event == "typing":
        if payload.get("author") != "visitor":
            await connection.send({"type": "typing", "author": payload.get("author")})
    elif event == "assigned":
        await connection.send(
            {
                "type": "assigned",
                "role": payload.get("role"),
                "display_name": payload.get("display_name"),
            }
        )
    elif event == "read":
        if payload.get("by") == "staff":
            await connection.send({"type": "read", "seq": payload.get("seq")})
    elif event == "closed":
        await connection.send({"type": "closed", "status": str(Status.CLOSED)})
    elif event == "erased":
        await connection.send({"type": "erased"})
        await connection.close(CLOSE_ERASED)
        return False
    return True
