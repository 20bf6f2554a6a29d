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
from confide.disclosure import actions as disclosure_actions
from confide.disclosure import queries as disclosure_queries
from confide.errors import DomainError, PermissionDenied, RateLimited
from confide.i18n import pick_lang
from confide.referrals import actions as referral_actions
from confide.routing import actions as routing_actions
from confide.routing import queries as routing_queries
from confide.security.guards import runtime_of, socket_guard, staff_for_socket
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.realtime import (  # noqa: F401  (each registers its frames)
    console_casework,
    console_handoff,
    console_replies,
    console_reports,
    frames,
)
from confide.web.realtime.bus import Payload
from confide.web.realtime.connection import BadFrame, Connection, Disconnected
from confide.web.realtime.queue import QueueWatcher
from confide.web.realtime.visitor import CLOSE_UNAUTHORISED, read_position

router = APIRouter()

FRAME_PERMISSIONS: dict[str, Permission] = {
    "take": Permission.CONVERSATION_TAKE,
    "open": Permission.CONVERSATION_CHAT,
    "send": Permission.CONVERSATION_CHAT,
    "typing": Permission.CONVERSATION_CHAT,
    "read": Permission.CONVERSATION_CHAT,
    "take_next": Permission.CONVERSATION_TAKE,
    "transfer": Permission.CONVERSATION_TRANSFER,
    "transfer_targets": Permission.CONVERSATION_TRANSFER,
    "availability": Permission.AVAILABILITY_SET,
    "identity_view": Permission.CONVERSATION_CHAT,
    "referrals": Permission.REFERRAL_SEND,
    "send_referral": Permission.REFERRAL_SEND,
    "ping": Permission.STAFF_CONSOLE,
}
# The console features' frames (`frames.staff_frame`), each with its permission.
FRAME_PERMISSIONS.update({kind: permission for kind, (permission, _) in frames.HANDLERS.items()})


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
    chats = staff.can(Permission.CONVERSATION_CHAT)
    personal = actions.staff_topic(staff.id)

    def to_me(payload: Payload) -> None:
        connection.post("staff", payload)

    def alert(payload: Payload) -> None:
        connection.post("frame", payload)

    await rt.bus.subscribe(personal, to_me)
    topics = [topic for topics_for in frames.TOPICS for topic in topics_for(staff)]
    if staff.can(Permission.ALERTS_VIEW):
        topics.append(routing_actions.SUPERVISORS_TOPIC)
    for topic in topics:
        await rt.bus.subscribe(topic, alert)
    connected = False
    try:
        if chats:
            await routing_actions.console_connected(rt, staff_id=staff.id)
            connected = True
        async with rt.reading() as session:
            mine = await queries.active_for_staff(session, staff.id)
            state = await routing_queries.officer_state(session, staff.id)
            teams = await routing_queries.staff_teams(session, staff.id)
            extras: dict[str, Any] = {}
            for hello_extra in frames.HELLO_EXTRAS:
                extras.update(await hello_extra(session, rt, staff))
        await connection.send(
            {
                **extras,
                "type": "hello",
                "staff": {
                    "display_name": staff.display_name,
                    "role": staff.role,
                    "permissions": [p.value for p in Permission if staff.can(p)],
                },
                "conversations": [summary(c) for c in mine],
                "availability": state.availability if state else "offline",
                "capacity": state.capacity if state else rt.settings.routing_default_capacity,
                "teams": [{"name": t.name, "kind": t.kind, "mode": t.mode} for t in teams],
            }
        )
        if staff.can(Permission.QUEUE_VIEW):
            watcher.staff[connection] = staff.id
            watcher.changed()
        pump = asyncio.create_task(_pump(connection, staff))
        while True:
            try:
                frame = await connection.receive_frame()
                await _handle(connection, staff, frame, limiter)
            except DomainError as error:
                await connection.send_error(error)
    except Disconnected:
        pass
    finally:
        watcher.staff.pop(connection, None)
        await rt.bus.unsubscribe(personal, to_me)
        for topic in topics:
            await rt.bus.unsubscribe(topic, alert)
        if connected:
            with contextlib.suppress(Exception):
                await routing_actions.console_disconnected(rt, staff_id=staff.id)
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
        # How far the visitor has read (this console's messages show "read").
        "visitor_read_seq": conversation.visitor_read_seq,
    }


_conversation_id = frames.conversation_id_of


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
    registered = frames.HANDLERS.get(kind)
    if registered is not None:
        await registered[1](connection, staff, frame)
        return
    if kind == "ping":
        await connection.send({"type": "pong"})
        return
    if kind == "availability":
        value = await routing_actions.set_availability(
            rt, staff=staff, availability=str(frame.get("value", ""))
        )
        await connection.send({"type": "availability", "value": value})
        return
    if kind == "take_next":
        assignment = await routing_actions.claim_next(rt, staff=staff)
        if assignment is None:
            await connection.send({"type": "nothing_to_take"})
        return
    if kind == "transfer_targets":
        await connection.send(await _transfer_targets(connection, staff))
        return
    conversation_id = _conversation_id(frame)
    if kind == "take":
        conversation = await actions.take_conversation(
            rt, staff=staff, conversation_id=conversation_id
        )
        await open_conversation(connection, staff, conversation, after_seq=0)
    elif kind == "open":
        after = frame.get("after_seq", 0)
        if not isinstance(after, int) or after < 0:
            raise BadFrame()
        conversation = await actions.open_for_staff(
            rt, staff=staff, conversation_id=conversation_id
        )
        await open_conversation(connection, staff, conversation, after_seq=after)
    elif kind == "send":
        if not await limiter.allow(f"staff:{staff.id}"):
            raise RateLimited()
        sent = await actions.send_message(
            rt,
            conversation_id=conversation_id,
            author=Author(AuthorKind(staff.role), staff.id),
            client_id=frame.get("client_id", ""),
            body=frame.get("body", ""),
        )
        await frames.send_ack(connection, sent.message)
    elif kind == "read":
        await actions.mark_read(
            rt,
            conversation_id=conversation_id,
            reader=Author(AuthorKind(staff.role), staff.id),
            seq=read_position(frame),
        )
    elif kind == "typing":
        if conversation_id in connection.feeds:
            await rt.bus.publish(
                actions.conversation_topic(conversation_id),
                # The staff id lets colleagues' consoles skip the writer's own (visitors only
                # ever get the role).
                {"type": "typing", "author": staff.role, "staff_id": staff.id},
            )
    elif kind == "referrals":
        audience = frame.get("audience")
        if audience is not None and not isinstance(audience, str):
            raise BadFrame()
        directory = await referral_actions.directory_for(
            rt, staff=staff, conversation_id=conversation_id, audience=audience or None
        )
        await connection.send(
            {
                "type": "referrals",
                "conversation_id": conversation_id,
                "audience": directory.audience,
                "resources": directory.resources,
            }
        )
    elif kind == "send_referral":
        referral_id = frame.get("referral_id")
        if not isinstance(referral_id, int) or isinstance(referral_id, bool):
            raise BadFrame()
        message = await referral_actions.send_referral(
            rt,
            staff=staff,
            conversation_id=conversation_id,
            referral_id=referral_id,
            client_id=await frames.staff_sends(connection, staff, frame),
        )
        await frames.send_ack(connection, message)
    elif kind == "identity_view":
        fields = await disclosure_actions.view_identity(
            rt, staff=staff, conversation_id=conversation_id
        )
        await connection.send(
            {"type": "identity", "conversation_id": conversation_id, "fields": fields}
        )
    elif kind == "transfer":
        to = frame.get("to")
        target = frame.get("target_id")
        if to not in ("staff", "team", "psychologists") or (
            to != "psychologists" and not isinstance(target, int)
        ):
            raise BadFrame()
        note = frame.get("note", "")
        if not isinstance(note, str):
            raise BadFrame()
        await routing_actions.transfer_conversation(
            rt,
            staff=staff,
            conversation_id=conversation_id,
            to_staff_id=target if to == "staff" else None,
            to_team_id=target if to == "team" else None,
            to_psychologists=to == "psychologists",
            note=note,
        )


async def _transfer_targets(connection: Connection, staff: StaffIdentity) -> dict[str, Any]:
    """Colleagues (with their availability and load) and teams one may transfer to."""
    async with connection.rt.reading() as session:
        colleagues = await routing_queries.chat_staff(session)
        teams = await routing_queries.load_teams(session)
        counts = await routing_queries.active_counts(session)
        states = {
            s.staff_id: s
            for s in [await routing_queries.officer_state(session, c.id) for c in colleagues]
            if s is not None
        }
    default = connection.rt.settings.routing_default_capacity
    return {
        "type": "transfer_targets",
        "staff": [
            {
                "id": c.id,
                "display_name": c.display_name,
                "role": c.role,
                "availability": states[c.id].availability if c.id in states else "offline",
                "active": counts.get(c.id, 0),
                "capacity": states[c.id].capacity if c.id in states else default,
            }
            for c in colleagues
            if c.id != staff.id
        ],
        "teams": [{"id": t.id, "name": t.name, "kind": t.kind} for t in teams.values()],
    }


async def open_conversation(
    connection: Connection, staff: StaffIdentity, conversation: Conversation, *, after_seq: int
) -> None:
    """Follow a conversation on this console: the `opened` frame, then its messages."""
    feed = await connection.follow(conversation.id, with_conversation=True)
    async with connection.rt.reading() as session:
        extras: dict[str, Any] = {}
        for opened_extra in frames.OPENED_EXTRAS:
            extras.update(await opened_extra(session, connection.rt, conversation, staff))
        transfers = await routing_queries.transfers_of(
            session, connection.rt.keyring, conversation.id
        )
        has_identity = await disclosure_queries.has_identity(session, conversation.id)
    await connection.send(
        {
            **extras,
            "type": "opened",
            "conversation": summary(conversation),
            # Whether the visitor shared who they are; reading it is a separate, audited step.
            "has_identity": has_identity,
            # Hand-over notes from colleagues, oldest first.
            "transfers": [
                {
                    "from_role": t.from_role,
                    "note": t.note,
                    "at": t.at.isoformat(timespec="seconds") + "Z",
                }
                for t in transfers
            ],
        }
    )
    await feed.replay(after_seq)


async def _on_personal(connection: Connection, staff: StaffIdentity, payload: Payload) -> None:
    """Events about this staff member: a conversation handed to them or taken away."""
    event = payload.get("type")
    conversation_id = str(payload.get("conversation_id", ""))
    if event == "assigned_to_you":
        try:
            conversation = await actions.open_for_staff(
                connection.rt, staff=staff, conversation_id=conversation_id
            )
        except DomainError:
            return  # already moved on (transferred again, closed)
        if conversation.assigned_staff_id == staff.id:
            await open_conversation(connection, staff, conversation, after_seq=0)
    elif event == "released":
        await connection.unfollow(conversation_id)
        await connection.send(
            {
                "type": "released",
                "conversation_id": conversation_id,
                "reason": payload.get("reason"),
            }
        )
    elif event == "availability":
        await connection.send({"type": "availability", "value": payload.get("value")})
    elif isinstance(event, str) and not event.startswith("_"):
        # Other events for this staff member only (console features): sent as they are.
        await connection.send(payload)


async def _pump(connection: Connection, staff: StaffIdentity) -> None:
    with contextlib.suppress(Disconnected):
        while True:
            kind, payload = await connection.inbox.get()
            if kind == "frame":
                await connection.send(payload)
                continue
            if kind == "staff":
                await _on_personal(connection, staff, payload)
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
                # The visitor, or a colleague in the same chat (a supervisor who joined, the
                # psychologist an observer follows); never this staff member's own typing.
                if payload.get("author") == "visitor" or payload.get("staff_id") != staff.id:
                    await connection.send(
                        {"type": "typing", "conversation_id": kind, "author": payload.get("author")}
                    )
            elif event == "read":
                if payload.get("by") == "visitor":
                    await connection.send(
                        {"type": "read", "conversation_id": kind, "seq": payload.get("seq")}
                    )
            elif event in ("closed", "erased", "assigned") or (
                event in frames.FORWARDED_CONVERSATION_EVENTS
            ):
                await connection.send({**payload, "conversation_id": kind})
            elif event == disclosure_actions.IDENTITY_TOPIC_EVENT:
                await connection.send(
                    {
                        "type": "identity_changed",
                        "conversation_id": kind,
                        "present": bool(payload.get("present")),
                    }
                )
