"""Reads of conversations and messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import MessageOut, Status

REPLAY_LIMIT = 1000


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        conversation_id=message.conversation_id,
        seq=message.seq,
        author=message.author_kind,
        body=message.body,
        at=message.created_at,
        client_id=message.client_id,
    )


async def by_token_digest(session: AsyncSession, digest: str) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.token_digest == digest))


async def messages_after(
    session: AsyncSession, conversation_id: str, after_seq: int, limit: int = REPLAY_LIMIT
) -> list[MessageOut]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [message_out(m) for m in rows]


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
            Conversation.alerted_at.is_not(None),
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
    return [WaitingConversation(*row) for row in rows]


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
