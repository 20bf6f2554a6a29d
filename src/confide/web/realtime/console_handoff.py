"""Staff socket frames of hand-offs to a psychologist and supervision (issue 5).

Officer: `handoff_request {conversation_id, note, stay}` → `handoff_pending`;
`handoff_cancel {handoff_id}`. Their consoles later get `handoff_accepted` (then `released`
with reason `handoff` unless they stay as observer) or `handoff_cancelled`.
Psychologist: `handoff_list` → `handoffs {items}` (also in `hello`, refreshed on
`handoffs_changed`); the history is read with the ordinary `open` frame; `handoff_accept
{handoff_id}` → the conversation opens as theirs (`assigned_to_you`).
Supervisor: `supervision_list` → `live_conversations {items}`; `supervise_read` and
`supervise_join {conversation_id}` open it; `reassign_targets {conversation_id}` →
`reassign_targets`; `reassign {conversation_id, to_staff_id, note}` → `reassigned`.
Anyone following a conversation without being in charge: `conversation_leave
{conversation_id}`. The `opened` frame carries `participation` (in_charge, observer, member,
reader) so that the console shows or hides the composer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from confide.conversations.actions import QUEUE_TOPIC
from confide.conversations.models import Conversation
from confide.handoff import actions, queries
from confide.security.permissions import Permission
from confide.web.realtime import frames
from confide.web.realtime.connection import BadFrame

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from confide.runtime import Runtime
    from confide.staff.schemas import StaffIdentity
    from confide.web.realtime.connection import Connection

Frame = dict[str, Any]


def _positive_int(frame: Frame, name: str) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadFrame()
    return value


def _text(frame: Frame, name: str) -> str:
    value = frame.get(name, "")
    if not isinstance(value, str):
        raise BadFrame()
    return value


# --- officers -----------------------------------------------------------------------------


@frames.staff_frame("handoff_request", Permission.HANDOFF_REQUEST)
async def handoff_request(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    stay = frame.get("stay", False)
    if not isinstance(stay, bool):
        raise BadFrame()
    handoff = await actions.request_handoff(
        connection.rt,
        staff=staff,
        conversation_id=conversation_id,
        note=_text(frame, "note"),
        stay=stay,
    )
    await connection.send(
        {
            "type": "handoff_pending",
            "handoff_id": handoff.id,
            "conversation_id": conversation_id,
            "stay": handoff.officer_stays,
        }
    )


@frames.staff_frame("handoff_cancel", Permission.HANDOFF_REQUEST)
async def handoff_cancel(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    await actions.cancel_handoff(
        connection.rt, staff=staff, handoff_id=_positive_int(frame, "handoff_id")
    )


# --- psychologists ------------------------------------------------------------------------


async def _handoffs(session: AsyncSession, rt: Runtime) -> list[dict[str, Any]]:
    return await queries.pending_for_psychologists(session, rt.keyring, rt.clock())


@frames.staff_frame("handoff_list", Permission.HANDOFF_ACCEPT)
async def handoff_list(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    async with connection.rt.reading() as session:
        items = await _handoffs(session, connection.rt)
    await connection.send({"type": "handoffs", "items": items})


@frames.staff_frame("handoff_accept", Permission.HANDOFF_ACCEPT)
async def handoff_accept(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    # The conversation opens through `assigned_to_you` on the psychologist's own topic.
    await actions.accept_handoff(
        connection.rt, staff=staff, handoff_id=_positive_int(frame, "handoff_id")
    )


# --- supervisors --------------------------------------------------------------------------


@frames.staff_frame("supervision_list", Permission.CONVERSATION_SUPERVISE)
async def supervision_list(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    async with connection.rt.reading() as session:
        items = await queries.live_conversations(session, staff.id, connection.rt.clock())
    await connection.send({"type": "live_conversations", "items": items})


@frames.staff_frame("supervise_read", Permission.CONVERSATION_SUPERVISE)
async def supervise_read(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation = await actions.supervise_read(
        connection.rt, staff=staff, conversation_id=frames.conversation_id_of(frame)
    )
    await frames.open_conversation(connection, staff, conversation, after_seq=0)


@frames.staff_frame("supervise_join", Permission.CONVERSATION_SUPERVISE)
async def supervise_join(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation = await actions.join_conversation(
        connection.rt, staff=staff, conversation_id=frames.conversation_id_of(frame)
    )
    await frames.open_conversation(connection, staff, conversation, after_seq=0)


@frames.staff_frame("reassign_targets", Permission.CONVERSATION_SUPERVISE)
async def reassign_targets(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    async with connection.rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
        holder = conversation.assigned_staff_id if conversation is not None else None
        targets = await queries.reassign_targets(
            session,
            connection.rt.settings.routing_default_capacity,
            exclude=[holder] if holder is not None else [],
        )
    await connection.send(
        {"type": "reassign_targets", "conversation_id": conversation_id, "staff": targets}
    )


@frames.staff_frame("reassign", Permission.CONVERSATION_SUPERVISE)
async def reassign(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    await actions.reassign_conversation(
        connection.rt,
        staff=staff,
        conversation_id=conversation_id,
        to_staff_id=_positive_int(frame, "to_staff_id"),
        note=_text(frame, "note"),
    )
    await connection.send({"type": "reassigned", "conversation_id": conversation_id})


# --- observers and members ----------------------------------------------------------------


@frames.staff_frame("conversation_leave", Permission.CONVERSATION_CHAT)
async def conversation_leave(connection: Connection, staff: StaffIdentity, frame: Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    await actions.leave_conversation(connection.rt, staff=staff, conversation_id=conversation_id)
    # This console at once; the others through `released` on the staff member's topic.
    await connection.unfollow(conversation_id)


# --- hello, opened, topics ----------------------------------------------------------------


@frames.hello_extra
async def hello_handoffs(
    session: AsyncSession, rt: Runtime, staff: StaffIdentity
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if staff.can(Permission.CONVERSATION_CHAT):
        # Conversations followed without being in charge: the console reopens them.
        extra["participations"] = await queries.participations(session, staff.id)
    if staff.can(Permission.HANDOFF_REQUEST):
        extra["my_handoffs"] = await queries.pending_by(session, staff.id)
    if staff.can(Permission.HANDOFF_ACCEPT):
        extra["handoffs"] = await _handoffs(session, rt)
    return extra


@frames.opened_extra
async def opened_participation(
    session: AsyncSession, rt: Runtime, conversation: Conversation, staff: StaffIdentity
) -> dict[str, Any]:
    if conversation.assigned_staff_id == staff.id:
        return {"participation": "in_charge"}
    current = await queries.participant(session, conversation.id, staff.id)
    return {"participation": current.mode if current is not None else "reader"}


@frames.staff_topics
def handoff_topics(staff: StaffIdentity) -> list[str]:
    topics = []
    if staff.can(Permission.HANDOFF_ACCEPT):
        topics.append(actions.HANDOFFS_TOPIC)
    if staff.can(Permission.CONVERSATION_SUPERVISE):
        # Assignments, closings and transfers: the live conversations list is refreshed.
        topics.append(QUEUE_TOPIC)
    return topics
