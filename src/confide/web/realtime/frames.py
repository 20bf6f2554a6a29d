"""Extension points of the staff socket (`/ws/staff`).

Console features (canned replies, case work, hand-offs, reports…) live in their own modules
(`web/realtime/console_*.py`) and plug into the socket here instead of growing one handler:

- `staff_frame(kind, permission)` registers the handler of a client frame type; the socket
  checks the permission before calling it (one permission per frame type, no exception).
- `opened_extra` adds fields to the `opened` frame sent when a conversation is shown.
- `hello_extra` adds fields to the `hello` frame sent when the console connects.
- `staff_topics` names bus topics a console subscribes to; their payloads reach the client
  as they are (they must be frames: a dict with a `type`).
- `FORWARDED_CONVERSATION_EVENTS`: conversation-topic events sent on to the consoles that
  follow the conversation, with its `conversation_id` added.
- Events published on a staff member's own topic (`conversations.actions.staff_topic`) whose
  type the socket does not handle itself reach that member's consoles as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from confide.security.permissions import Permission

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from confide.conversations.models import Conversation
    from confide.conversations.schemas import MessageOut
    from confide.runtime import Runtime
    from confide.staff.schemas import StaffIdentity
    from confide.web.realtime.connection import Connection

Frame = dict[str, Any]
FrameHandler = Callable[["Connection", "StaffIdentity", Frame], Awaitable[None]]
OpenedExtra = Callable[
    ["AsyncSession", "Runtime", "Conversation", "StaffIdentity"], Awaitable[dict[str, Any]]
]
HelloExtra = Callable[["AsyncSession", "Runtime", "StaffIdentity"], Awaitable[dict[str, Any]]]
TopicsFor = Callable[["StaffIdentity"], list[str]]

HANDLERS: dict[str, tuple[Permission, FrameHandler]] = {}
OPENED_EXTRAS: list[OpenedExtra] = []
HELLO_EXTRAS: list[HelloExtra] = []
TOPICS: list[TopicsFor] = []
FORWARDED_CONVERSATION_EVENTS: set[str] = set()


def staff_frame(kind: str, permission: Permission) -> Callable[[FrameHandler], FrameHandler]:
    def register(handler: FrameHandler) -> FrameHandler:
        if kind in HANDLERS:
            raise RuntimeError(f"staff frame {kind!r} registered twice")
        HANDLERS[kind] = (permission, handler)
        return handler

    return register


def opened_extra(extra: OpenedExtra) -> OpenedExtra:
    OPENED_EXTRAS.append(extra)
    return extra


def hello_extra(extra: HelloExtra) -> HelloExtra:
    HELLO_EXTRAS.append(extra)
    return extra


def staff_topics(topics: TopicsFor) -> TopicsFor:
    TOPICS.append(topics)
    return topics


async def staff_sends(connection: Connection, staff: StaffIdentity, frame: Frame) -> str | None:
    """Before a staff member's message of any kind: the frame's optional `client_id` (a
    string, or `BadFrame`) and the per-staff message budget (`RateLimited`)."""
    from confide.errors import RateLimited
    from confide.web.realtime.connection import BadFrame

    client_id = frame.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise BadFrame()
    if not await connection.websocket.app.state.message_limiter.allow(f"staff:{staff.id}"):
        raise RateLimited()
    return client_id


async def send_ack(connection: Connection, message: MessageOut) -> None:
    """Tell the sending console its message is stored, with its sequence number."""
    await connection.send(
        {
            "type": "ack",
            "conversation_id": message.conversation_id,
            "client_id": message.client_id,
            "seq": message.seq,
        }
    )


def conversation_id_of(frame: Frame) -> str:
    """The frame's `conversation_id`, or `BadFrame`."""
    from confide.web.realtime.connection import BadFrame

    value = frame.get("conversation_id")
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise BadFrame()
    return value


async def open_conversation(
    connection: Connection, staff: StaffIdentity, conversation: Conversation, *, after_seq: int
) -> None:
    """Show a conversation on this console (`opened`, then its messages after `after_seq`).

    Access must have been checked (and audited) by the caller's action."""
    from confide.web.realtime.staff import open_conversation as open_

    await open_(connection, staff, conversation, after_seq=after_seq)
