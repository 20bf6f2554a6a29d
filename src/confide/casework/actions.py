"""Case work on a conversation: internal notes, danger / suspected-minor flags, closing with a
qualification, and the transcript export.

Each action checks who may act, writes in one transaction, records the audit log (never the
text of a note) and publishes only after commit. Notes and flags are never published on a
conversation topic with their content: visitor sockets listen there.
"""

from __future__ import annotations

from sqlalchemy import select

from confide.audit.actions import AuditAction, record
from confide.casework import queries
from confide.casework.errors import FlagInvalid, NoteInvalid, NoteTooLong
from confide.casework.models import ConversationNote
from confide.casework.schemas import (
    NOTE_MAX_CHARS,
    Flag,
    NoteOut,
    parse_flags,
    parse_qualification,
    priority_of,
)
from confide.casework.transcript import Transcript, build_transcript
from confide.conversations import actions as conversation_actions
from confide.conversations import queries as conversation_queries
from confide.conversations.actions import QUEUE_TOPIC, conversation_topic
from confide.conversations.errors import ConversationClosed, ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import OPEN_STATUSES
from confide.errors import PermissionDenied
from confide.routing.actions import SUPERVISORS_TOPIC
from confide.runtime import Runtime, Tx
from confide.security.keyring import encrypt_text
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity

NOTES_CHANGED = "notes_changed"
FLAGS_CHANGED = "flags_changed"


def _check_in_charge(conversation: Conversation, staff: StaffIdentity) -> None:
    """The staff member in charge, or anyone who may read every conversation (supervisors)."""
    if not conversation_queries.in_charge_or_reads_all(staff, conversation):
        raise PermissionDenied()


async def _conversation(tx: Tx, conversation_id: str, *, lock: bool = False) -> Conversation:
    query = select(Conversation).where(Conversation.id == conversation_id)
    conversation = await tx.session.scalar(query.with_for_update() if lock else query)
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def check_note(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise NoteInvalid()
    body = body.strip()
    if len(body) > NOTE_MAX_CHARS:
        raise NoteTooLong()
    return body


async def add_note(rt: Runtime, *, staff: StaffIdentity, conversation_id: str, body: str) -> None:
    """Add an internal note (never shown to the visitor), encrypted with the conversation's
    data key. The staff member in charge, or a supervisor (`staff:conversation:read_all`),
    with `staff:casework:write`. Audited as `conversation.note_added` (never the text).
    Consoles following the conversation are told to fetch the notes again."""
    if not staff.can(Permission.CASEWORK_WRITE):
        raise PermissionDenied()
    body = check_note(body)
    async with rt.transaction() as tx:
        conversation = await _conversation(tx, conversation_id)
        _check_in_charge(conversation, staff)
        key = conversation_queries.data_key(tx.keyring, conversation)
        tx.session.add(
            ConversationNote(
                conversation_id=conversation.id,
                staff_id=staff.id,
                ciphertext=encrypt_text(key, body),
                created_at=tx.now,
            )
        )
        await record(
            tx, AuditAction.NOTE_ADDED, actor_staff_id=staff.id, conversation_id=conversation.id
        )
        # No content here: visitor sockets subscribe to this topic too (and ignore it).
        tx.publish_on_commit(conversation_topic(conversation.id), {"type": NOTES_CHANGED})


async def notes_for(rt: Runtime, *, staff: StaffIdentity, conversation_id: str) -> list[NoteOut]:
    """The notes of a conversation this console already opened (its opening was audited).
    The staff member in charge or a supervisor."""
    if not staff.can(Permission.CASEWORK_WRITE):
        raise PermissionDenied()
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        _check_in_charge(conversation, staff)
        return await queries.notes_of(session, rt.keyring, conversation)


async def set_flag(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, flag: str, on: bool
) -> list[str]:
    """Set or clear the `danger` or `minor` flag of an open conversation; returns its flags.

    The staff member in charge, or a supervisor, with `staff:casework:write`. The flags set
    the queue priority (danger 2, minor 1, the highest wins), so a flagged conversation put
    back in the queue is answered first. Setting a flag alerts the supervisors. Audited as
    `conversation.flags_changed` with `{flag, on}`; the visitor never sees flags."""
    if not staff.can(Permission.CASEWORK_WRITE):
        raise PermissionDenied()
    try:
        value = Flag(flag)
    except ValueError:
        raise FlagInvalid() from None
    async with rt.transaction() as tx:
        conversation = await _conversation(tx, conversation_id, lock=True)
        _check_in_charge(conversation, staff)
        if conversation.status not in OPEN_STATUSES:
            raise ConversationClosed()
        before = parse_flags(conversation.flags)
        wanted = set(before) | {value.value} if on else set(before) - {value.value}
        flags: list[str] = [f.value for f in Flag if f.value in wanted]
        if flags == before:
            return flags
        conversation.flags = " ".join(flags)
        conversation.priority = priority_of(flags)
        await record(
            tx,
            AuditAction.FLAGS_CHANGED,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"flag": value.value, "on": on},
        )
        tx.publish_on_commit(
            conversation_topic(conversation.id), {"type": FLAGS_CHANGED, "flags": flags}
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
        if on:
            tx.publish_on_commit(
                SUPERVISORS_TOPIC,
                {
                    "type": "flag_alert",
                    "conversation_id": conversation.id,
                    "flag": value.value,
                    "channel": conversation.channel,
                    "departement": conversation.departement,
                    "by_role": staff.role,
                },
            )
    return flags


async def closing_prefill(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> dict[str, object]:
    """What the closing form starts with: the visitor's chat type and the outcomes the
    history implies (a resource or guidance card was sent). The staff member in charge."""
    if not staff.can(Permission.CONVERSATION_CLOSE):
        raise PermissionDenied()
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.assigned_staff_id != staff.id:
            raise PermissionDenied()
        outcomes = await queries.implied_outcomes(session, conversation_id)
    return {"channel": conversation.channel, "outcomes": outcomes}


async def close_with_qualification(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, qualification: object
) -> None:
    """Check the closing form, then close (`conversations.actions.close_conversation`, which
    stores the qualification and audits). An incomplete form closes nothing."""
    checked = parse_qualification(qualification)
    await conversation_actions.close_conversation(
        rt, staff=staff, conversation_id=conversation_id, qualification=checked
    )


async def export_transcript(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, lang: str, fmt: str
) -> Transcript:
    """The conversation's transcript for the judicial procedure (`fmt`: "html" or "txt").

    `staff:transcript:export`, and the staff member in charge or who handled it, or
    `staff:conversation:read_all`. Every export is audited as `transcript.exported` with the
    format. Sealed connection data, the voluntary identity and internal notes are left out."""
    if not staff.can(Permission.TRANSCRIPT_EXPORT):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        conversation = await _conversation(tx, conversation_id)
        if not staff.can(Permission.CONVERSATION_READ_ALL) and not await queries.has_handled(
            tx.session, conversation, staff.id
        ):
            raise PermissionDenied()
        messages = await queries.transcript_messages(tx.session, tx.keyring, conversation)
        qualification = await queries.qualification_of(tx.session, conversation.id)
        transcript = build_transcript(conversation, messages, qualification, lang=lang)
        await record(
            tx,
            AuditAction.TRANSCRIPT_EXPORTED,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"format": fmt, "sha256": transcript.digest},
        )
    return transcript
