"""Reads of the casework domain: notes, flags, qualification, and what a transcript holds."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.audit.actions import AuditAction
from confide.audit.models import AuditEvent
from confide.casework.models import ConversationNote, ConversationOutcome
from confide.casework.schemas import NoteOut, Offence, Outcome, Qualification, parse_flags
from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import Channel, MessageKind, MessageOut
from confide.routing.models import ConversationTransfer
from confide.security import crypto
from confide.security.keyring import KeyRing, decrypt_text
from confide.staff.models import StaffMember

log = logging.getLogger(__name__)


async def notes_of(
    session: AsyncSession, keyring: KeyRing, conversation: Conversation
) -> list[NoteOut]:
    """Internal notes of a conversation, oldest first, decrypted (a damaged one reads empty)."""
    rows = (
        await session.execute(
            select(ConversationNote, StaffMember.role, StaffMember.display_name)
            .outerjoin(StaffMember, StaffMember.id == ConversationNote.staff_id)
            .where(ConversationNote.conversation_id == conversation.id)
            .order_by(ConversationNote.id)
        )
    ).all()
    if not rows:
        return []
    key = conversation_queries.data_key(keyring, conversation)
    notes = []
    for note, role, name in rows:
        try:
            body = decrypt_text(key, note.ciphertext)
        except crypto.CryptoError:
            log.error("an internal note cannot be decrypted")
            body = ""
        notes.append(
            NoteOut(author_role=role or "", author_name=name or "", at=note.created_at, body=body)
        )
    return notes


async def flags_by_conversation(session: AsyncSession, ids: Iterable[str]) -> dict[str, list[str]]:
    """The flags of these conversations (only those that have some)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Conversation.id, Conversation.flags).where(
            Conversation.id.in_(wanted), Conversation.flags != ""
        )
    )
    return {conversation_id: parse_flags(flags) for conversation_id, flags in rows}


async def qualification_of(session: AsyncSession, conversation_id: str) -> Qualification | None:
    row = await session.get(ConversationOutcome, conversation_id)
    if row is None:
        return None
    return Qualification(
        channel=Channel(row.channel),
        offence=Offence(row.offence),
        outcomes=frozenset(o for o in Outcome if getattr(row, o.value)),
    )


async def implied_outcomes(session: AsyncSession, conversation_id: str) -> list[str]:
    """Outcomes the history shows: a resource card or a guidance card was sent."""
    kinds = set(
        await session.scalars(
            select(Message.kind)
            .where(
                Message.conversation_id == conversation_id,
                Message.kind.in_([MessageKind.REFERRAL, MessageKind.GUIDANCE]),
            )
            .distinct()
        )
    )
    implied = {MessageKind.REFERRAL: Outcome.REFERRAL, MessageKind.GUIDANCE: Outcome.GUIDANCE}
    return [implied[MessageKind(k)].value for k in sorted(k for k in kinds if k)]


async def has_handled(session: AsyncSession, conversation: Conversation, staff_id: int) -> bool:
    """Whether this staff member is or was in charge of the conversation: assigned now, took
    it, had it transferred to or from them, or wrote in it."""
    if conversation.assigned_staff_id == staff_id:
        return True
    found = await session.scalar(
        select(
            or_(
                exists().where(
                    Message.conversation_id == conversation.id,
                    Message.author_staff_id == staff_id,
                ),
                exists().where(
                    ConversationTransfer.conversation_id == conversation.id,
                    or_(
                        ConversationTransfer.from_staff_id == staff_id,
                        ConversationTransfer.to_staff_id == staff_id,
                    ),
                ),
                exists().where(
                    AuditEvent.conversation_id == conversation.id,
                    AuditEvent.actor_staff_id == staff_id,
                    AuditEvent.action == AuditAction.CONVERSATION_ASSIGNED.value,
                ),
            )
        )
    )
    return bool(found)


@dataclass(frozen=True)
class TranscriptMessage:
    message: MessageOut
    #: The staff author's role and display name (None for the visitor and the system).
    staff_role: str | None
    staff_name: str | None


async def transcript_messages(
    session: AsyncSession, keyring: KeyRing, conversation: Conversation
) -> list[TranscriptMessage]:
    """Every message of the conversation, decrypted, in order, with staff authors' names."""
    key = conversation_queries.data_key(keyring, conversation)
    rows = (
        await session.execute(
            select(Message, StaffMember.role, StaffMember.display_name)
            .outerjoin(StaffMember, StaffMember.id == Message.author_staff_id)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.seq)
        )
    ).all()
    return [
        TranscriptMessage(conversation_queries.message_out(message, key), role, name)
        for message, role, name in rows
    ]
