"""Staff socket frames of the console's casework feature (registered with `frames.staff_frame`):
internal notes, danger / suspected-minor flags, and closing with a qualification.

Frames (client → server):
- `note_add` `{conversation_id, body}` → `notes` (the list, to this console; other consoles
  following the conversation get `notes_changed` and ask for `notes`);
- `notes` `{conversation_id}` → `{type: notes, conversation_id, notes: [...]}`;
- `flag_set` `{conversation_id, flag, on}` → consoles following it get `flags_changed`;
  supervisors get `flag_alert`;
- `close_prefill` `{conversation_id}` → `{type: close_prefill, conversation_id, channel,
  outcomes}` (what the closing form starts with);
- `close` `{conversation_id, qualification: {channel, offence, outcomes}}` → `closed`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from confide.casework import actions, queries
from confide.casework.schemas import parse_flags
from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.runtime import Runtime
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.realtime import frames
from confide.web.realtime.connection import BadFrame, Connection

frames.FORWARDED_CONVERSATION_EVENTS.update({actions.NOTES_CHANGED, actions.FLAGS_CHANGED})


async def _send_notes(connection: Connection, staff: StaffIdentity, conversation_id: str) -> None:
    notes = await actions.notes_for(connection.rt, staff=staff, conversation_id=conversation_id)
    await connection.send(
        {
            "type": "notes",
            "conversation_id": conversation_id,
            "notes": [note.frame() for note in notes],
        }
    )


@frames.staff_frame("note_add", Permission.CASEWORK_WRITE)
async def note_add(connection: Connection, staff: StaffIdentity, frame: frames.Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    body = frame.get("body")
    if not isinstance(body, str):
        raise BadFrame()
    await actions.add_note(connection.rt, staff=staff, conversation_id=conversation_id, body=body)
    await _send_notes(connection, staff, conversation_id)


@frames.staff_frame("notes", Permission.CASEWORK_WRITE)
async def notes(connection: Connection, staff: StaffIdentity, frame: frames.Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    # Only for a conversation this console follows: opening it was checked and audited.
    if conversation_id not in connection.feeds:
        raise BadFrame()
    await _send_notes(connection, staff, conversation_id)


@frames.staff_frame("flag_set", Permission.CASEWORK_WRITE)
async def flag_set(connection: Connection, staff: StaffIdentity, frame: frames.Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    flag, on = frame.get("flag"), frame.get("on")
    if not isinstance(flag, str) or not isinstance(on, bool):
        raise BadFrame()
    flags = await actions.set_flag(
        connection.rt, staff=staff, conversation_id=conversation_id, flag=flag, on=on
    )
    if conversation_id not in connection.feeds:
        # Not following it (a supervisor acting from an alert): answer directly.
        await connection.send(
            {"type": "flags_changed", "conversation_id": conversation_id, "flags": flags}
        )


@frames.staff_frame("close_prefill", Permission.CONVERSATION_CLOSE)
async def close_prefill(connection: Connection, staff: StaffIdentity, frame: frames.Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    prefill = await actions.closing_prefill(
        connection.rt, staff=staff, conversation_id=conversation_id
    )
    await connection.send({"type": "close_prefill", "conversation_id": conversation_id, **prefill})


@frames.staff_frame("close", Permission.CONVERSATION_CLOSE)
async def close(connection: Connection, staff: StaffIdentity, frame: frames.Frame) -> None:
    conversation_id = frames.conversation_id_of(frame)
    await actions.close_with_qualification(
        connection.rt,
        staff=staff,
        conversation_id=conversation_id,
        qualification=frame.get("qualification"),
    )


@frames.opened_extra
async def casework_opened(
    session: AsyncSession, rt: Runtime, conversation: Conversation, staff: StaffIdentity
) -> dict[str, Any]:
    """Flags for everyone who sees the conversation; notes for those who may read them."""
    extra: dict[str, Any] = {"flags": parse_flags(conversation.flags)}
    if staff.can(Permission.CASEWORK_WRITE) and conversation_queries.in_charge_or_reads_all(
        staff, conversation
    ):
        notes = await queries.notes_of(session, rt.keyring, conversation)
        extra["notes"] = [note.frame() for note in notes]
    return extra
