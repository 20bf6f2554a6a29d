"""Reads of canned replies."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.conversations.schemas import Channel
from confide.replies.models import CannedReply

#: The chat type of a reply offered in the three chats.
ALL_CHANNELS = "all"
#: Chat types a reply can be written for, in the order the management page shows them.
REPLY_CHANNELS = (ALL_CHANNELS, *Channel)
REPLY_LANGS = ("fr", "en")


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CannedReply)) or 0)


async def all_replies(session: AsyncSession) -> list[CannedReply]:
    """Every reply, by chat type, then language, then title (the management page)."""
    rows = await session.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id))
    order = {channel: index for index, channel in enumerate(REPLY_CHANNELS)}
    return sorted(rows, key=lambda r: (order.get(r.channel, 99), r.lang))


def grouped(replies: list[CannedReply]) -> list[tuple[str, str, list[CannedReply]]]:
    """`(channel, lang, replies)` groups, in the order of `all_replies`, empty ones left out."""
    groups: list[tuple[str, str, list[CannedReply]]] = []
    for reply in replies:
        if groups and groups[-1][:2] == (reply.channel, reply.lang):
            groups[-1][2].append(reply)
        else:
            groups.append((reply.channel, reply.lang, [reply]))
    return groups


async def for_conversation(session: AsyncSession, *, channel: str, lang: str) -> list[CannedReply]:
    """The replies offered in a conversation: its chat type (or all chats), its language."""
    rows = await session.scalars(
        select(CannedReply)
        .where(
            CannedReply.lang == lang,
            or_(CannedReply.channel == channel, CannedReply.channel == ALL_CHANNELS),
        )
        .order_by(CannedReply.title, CannedReply.id)
    )
    return list(rows)


def picker_item(reply: CannedReply) -> dict[str, str | int]:
    """What the console's picker needs of a reply."""
    return {"id": reply.id, "title": reply.title, "body": reply.body}
