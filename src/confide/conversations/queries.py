"""Reads of conversations and messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.conversations.errors import ConversationUnreadable
from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import MessageKind, MessageOut, Status
from confide.security import crypto
from confide.security.keyring import KeyRing, decrypt_text
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity

log = logging.getLogger(__name__)
REPLAY_LIMIT = 1000


def in_charge_or_reads_all(staff: StaffIdentity, conversation: Conversation) -> bool:
    """The staff member in charge of the conversation, or one who may read every
    conversation (supervisors): who may work on its case (notes, flags, signalements…)."""
    return conversation.assigned_staff_id == staff.id or staff.can(Permission.CONVERSATION_READ_ALL)


def data_key(keyring: KeyRing, conversation: Conversation | bytes) -> bytes:
    """The conversation's data key (unwrapped once per process, then cached); raises
    `ConversationUnreadable` when the master key it is wrapped with is missing or wrong."""
    wrapped = conversation if isinstance(conversation, bytes) else conversation.wrapped_key
    try:
        return keyring.data_key(wrapped)
    except crypto.CryptoError:
        log.error("the data key of a conversation cannot be unwrapped")
        raise ConversationUnreadable() from None


async def conversation_key(session: AsyncSession, keyring: KeyRing, conversation_id: str) -> bytes:
    wrapped = await session.scalar(
        select(Conversation.wrapped_key).where(Conversation.id == conversation_id)
    )
    if wrapped is None:
        raise ConversationUnreadable()
    return data_key(keyring, bytes(wrapped))


def message_out(message: Message, key: bytes, *, body: str | None = None) -> MessageOut:
    """The message as clients see it: the only place where stored bodies are decrypted.

    ``body``: the plaintext when the caller has it (the message was just written), so that
    sending costs one encryption and no decryption. A body that does not decrypt (tampered
    with, damaged) is shown empty and flagged `unreadable`, the rest of the conversation
    still reads."""
    unreadable = False
    if body is None:
        try:
            body = decrypt_text(key, message.ciphertext)
        except crypto.CryptoError:
            log.error("message %s of a conversation cannot be decrypted", message.seq)
            body, unreadable = "", True
    return MessageOut(
        conversation_id=message.conversation_id,
        seq=message.seq,
        author=message.author_kind,
        body=body,
        at=message.created_at,
        client_id=message.client_id,
        unreadable=unreadable,
        kind=message.kind or MessageKind.TEXT,
    )


async def by_token_digest(session: AsyncSession, digest: str) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.token_digest == digest))


async def messages_after(
    session: AsyncSession,
    keyring: KeyRing,
    conversation_id: str,
    after_seq: int,
    limit: int = REPLAY_LIMIT,
) -> list[MessageOut]:
    key = await conversation_key(session, keyring, conversation_id)
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [message_out(m, key) for m in rows]


@dataclass(frozen=True)
class WaitingConversation:
    id: str
    channel: str
    visitor_role: str
    departement: str
    priority: int
    created_at: datetime
    #: Supervisors were alerted: nobody answered within both routing delays.
    alerted: bool = False
    #: For routing (which teams may answer it): every département of its postal code,
    #: since when it waits (reset by a re-queue), and the team it was transferred to.
    departements: str = ""
    waiting_since: datetime | None = None
    team_id: int | None = None


async def waiting_queue(session: AsyncSession) -> list[WaitingConversation]:
    """Waiting conversations in the order they will be answered: priority, then longest waiting."""
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.visitor_role,
            Conversation.departement,
            Conversation.priority,
            Conversation.created_at,
            Conversation.alerted_at.is_not(None).label("alerted"),
            Conversation.departements,
            Conversation.waiting_since,
            Conversation.team_id,
        )
        .where(Conversation.status == Status.WAITING)
        # Same order as the assignment engine: priority, put back at the head, oldest.
        .order_by(
            Conversation.priority.desc(),
            Conversation.requeued_at.is_(None),
            Conversation.created_at,
            Conversation.id,
        )
    )
    return [WaitingConversation(**row._asdict()) for row in rows]


async def recent_wait_seconds(session: AsyncSession, now: datetime) -> float | None:
    """Average time from start to assignment over the last hour (the 50 most recent);
    None when nobody was assigned."""
    rows = await session.execute(
        select(Conversation.created_at, Conversation.assigned_at)
        .where(
            Conversation.assigned_at.is_not(None),
            Conversation.assigned_at > now - timedelta(hours=1),
        )
        .order_by(Conversation.assigned_at.desc())
        .limit(50)
    )
    waits = [(assigned - created).total_seconds() for created, assigned in rows if assigned]
    return sum(waits) / len(waits) if waits else None


async def active_for_staff(session: AsyncSession, staff_id: int) -> list[Conversation]:
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.assigned_staff_id == staff_id, Conversation.status == Status.ACTIVE)
        .order_by(Conversation.assigned_at)
    )
    return list(rows)


async def count_messages(session: AsyncSession, conversation_id: str) -> int:
    return int(
        await session.scalar(select(func.count()).where(Message.conversation_id == conversation_id))
        or 0
    )
