"""Reads for hand-offs and supervision: pending hand-offs, who follows a conversation, whether
a psychologist could take one now, and the live conversations a supervisor oversees."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.handoff.models import ConversationParticipant, Handoff
from confide.routing import queries as routing_queries
from confide.routing.models import OfficerState
from confide.routing.schemas import Availability, TeamKind
from confide.security import crypto
from confide.security.keyring import KeyRing, decrypt_text
from confide.staff.models import StaffMember

log = logging.getLogger(__name__)


class HandoffStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


class ParticipantMode(StrEnum):
    #: Follows the conversation, cannot write (an officer who stayed, a supervisor reading).
    OBSERVER = "observer"
    #: Writes alongside the person in charge (a supervisor who joined).
    MEMBER = "member"


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds") + "Z"


async def pending_handoff(session: AsyncSession, conversation_id: str) -> Handoff | None:
    return await session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status == HandoffStatus.PENDING)
        .order_by(Handoff.id.desc())
        .limit(1)
    )


async def participant(
    session: AsyncSession, conversation_id: str, staff_id: int
) -> ConversationParticipant | None:
    """The staff member's current participation in the conversation, if any."""
    return await session.scalar(
        select(ConversationParticipant)
        .where(
            ConversationParticipant.conversation_id == conversation_id,
            ConversationParticipant.staff_id == staff_id,
            ConversationParticipant.left_at.is_(None),
        )
        .order_by(ConversationParticipant.id.desc())
        .limit(1)
    )


async def may_follow(
    session: AsyncSession, conversation_id: str, staff_id: int, *, psychologist: bool
) -> bool:
    """Access granted by this domain: a current participant (observer or member), or a
    psychologist while a hand-off of the conversation is pending."""
    if await participant(session, conversation_id, staff_id) is not None:
        return True
    return psychologist and await pending_handoff(session, conversation_id) is not None


async def psychologist_available(session: AsyncSession, default_capacity: int) -> bool:
    """Is there a psychologist who could accept now: console connected, "available", and
    under capacity?"""
    rows = (
        await session.execute(
            select(StaffMember.id, OfficerState.capacity)
            .join(OfficerState, OfficerState.staff_id == StaffMember.id)
            .where(
                StaffMember.role == "psychologist",
                StaffMember.is_active,
                OfficerState.availability == Availability.AVAILABLE,
                OfficerState.connections > 0,
            )
        )
    ).all()
    if not rows:
        return False
    counts = await routing_queries.active_counts(session)
    return any(
        counts.get(staff_id, 0) < (capacity or default_capacity) for staff_id, capacity in rows
    )


def _note(key: bytes, ciphertext: bytes | None) -> str:
    if ciphertext is None:
        return ""
    try:
        return decrypt_text(key, ciphertext)
    except crypto.CryptoError:
        log.error("a hand-off note cannot be decrypted")
        return ""


def _summary(conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": conversation.id,
        "channel": conversation.channel,
        "role": conversation.visitor_role,
        "departement": conversation.departement,
    }


async def pending_for_psychologists(
    session: AsyncSession, keyring: KeyRing, now: datetime
) -> list[dict[str, Any]]:
    """Pending hand-offs still valid (the conversation is active and still with the officer who
    asked), oldest first, with the officer's note."""
    rows = (
        await session.execute(
            select(Handoff, Conversation)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(
                Handoff.status == HandoffStatus.PENDING,
                Conversation.status == Status.ACTIVE,
                Conversation.assigned_staff_id == Handoff.from_staff_id,
            )
            .order_by(Handoff.created_at, Handoff.id)
        )
    ).all()
    items = []
    for handoff, conversation in rows:
        key = (
            conversation_queries.data_key(keyring, conversation)
            if handoff.note_ciphertext is not None
            else b""
        )
        items.append(
            {
                **_summary(conversation),
                "handoff_id": handoff.id,
                "note": _note(key, handoff.note_ciphertext),
                "requested_at": _iso(handoff.created_at),
                "waiting_s": max(0, int((now - handoff.created_at).total_seconds())),
            }
        )
    return items


async def pending_by(session: AsyncSession, staff_id: int) -> list[dict[str, Any]]:
    """The hand-offs this officer asked for that are still pending."""
    rows = await session.scalars(
        select(Handoff)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.from_staff_id == staff_id,
            Handoff.status == HandoffStatus.PENDING,
            Conversation.status == Status.ACTIVE,
            Conversation.assigned_staff_id == staff_id,
        )
    )
    return [
        {"handoff_id": h.id, "conversation_id": h.conversation_id, "stay": h.officer_stays}
        for h in rows
    ]


async def participations(session: AsyncSession, staff_id: int) -> list[dict[str, Any]]:
    """Open conversations the staff member follows without being in charge (to reopen them
    on the console after a reconnect)."""
    rows = await session.execute(
        select(ConversationParticipant.conversation_id, ConversationParticipant.mode)
        .join(Conversation, Conversation.id == ConversationParticipant.conversation_id)
        .where(
            ConversationParticipant.staff_id == staff_id,
            ConversationParticipant.left_at.is_(None),
            Conversation.status == Status.ACTIVE,
            func.coalesce(Conversation.assigned_staff_id, 0) != staff_id,
        )
        .order_by(ConversationParticipant.id)
    )
    return [{"conversation_id": cid, "mode": mode} for cid, mode in rows]


@dataclass(frozen=True)
class Scope:
    """What a supervisor oversees: everything (a national team), or their teams' coverage."""

    everything: bool
    team_ids: frozenset[int]
    #: (channels, départements) of each team.
    coverage: tuple[tuple[frozenset[str], frozenset[str]], ...]

    def covers(self, conversation: Conversation) -> bool:
        if self.everything:
            return True
        if conversation.team_id is not None and conversation.team_id in self.team_ids:
            return True
        departements = set((conversation.departements or conversation.departement).split())
        return any(
            conversation.channel in channels and departements & codes
            for channels, codes in self.coverage
        )


async def scope_of(session: AsyncSession, staff_id: int) -> Scope:
    teams = await routing_queries.staff_teams(session, staff_id)
    return Scope(
        everything=any(team.kind == TeamKind.NATIONAL for team in teams),
        team_ids=frozenset(team.id for team in teams),
        coverage=tuple((team.channels, team.departements) for team in teams),
    )


def _flags(conversation: Conversation) -> list[str]:
    """The conversation's flags when the case-work feature stores them (tolerates absence)."""
    value = getattr(conversation, "flags", None)
    if not value:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, dict):
        return [str(name) for name, on in value.items() if on]
    if isinstance(value, Iterable):
        return [str(part) for part in value]
    return []


async def live_conversations(
    session: AsyncSession, staff_id: int, now: datetime
) -> list[dict[str, Any]]:
    """Active conversations of the supervisor's teams, with who is in charge since when."""
    scope = await scope_of(session, staff_id)
    if not scope.everything and not scope.team_ids:
        return []
    holder = aliased(StaffMember)
    rows = (
        await session.execute(
            select(Conversation, holder.display_name, holder.role)
            .outerjoin(holder, holder.id == Conversation.assigned_staff_id)
            .where(Conversation.status == Status.ACTIVE)
            .order_by(Conversation.priority.desc(), Conversation.assigned_at, Conversation.id)
        )
    ).all()
    followed = await session.execute(
        select(ConversationParticipant.conversation_id, ConversationParticipant.mode).where(
            ConversationParticipant.staff_id == staff_id,
            ConversationParticipant.left_at.is_(None),
        )
    )
    mine: dict[str, str] = {}
    for conversation_id, mode in followed:
        mine[conversation_id] = mode
    items = []
    for conversation, name, role in rows:
        if not scope.covers(conversation):
            continue
        since = conversation.assigned_at or conversation.created_at
        items.append(
            {
                **_summary(conversation),
                "in_charge": {"display_name": name or "", "role": role or ""},
                "in_charge_is_me": conversation.assigned_staff_id == staff_id,
                "since": _iso(since),
                "since_s": max(0, int((now - since).total_seconds())),
                "priority": conversation.priority,
                "flags": _flags(conversation),
                "following": mine.get(conversation.id),
            }
        )
    return items


async def reassign_targets(
    session: AsyncSession, default_capacity: int, *, exclude: Iterable[int]
) -> list[dict[str, Any]]:
    """Officers one may reassign a conversation to, with their availability and load."""
    skip = set(exclude)
    rows = (
        await session.execute(
            select(StaffMember, OfficerState)
            .outerjoin(OfficerState, OfficerState.staff_id == StaffMember.id)
            .where(StaffMember.is_active, StaffMember.role == "officer")
            .order_by(StaffMember.display_name, StaffMember.id)
        )
    ).all()
    counts = await routing_queries.active_counts(session)
    return [
        {
            "id": member.id,
            "display_name": member.display_name,
            "role": member.role,
            "availability": state.availability if state else Availability.OFFLINE,
            "active": counts.get(member.id, 0),
            "capacity": state.capacity if state else default_capacity,
        }
        for member, state in rows
        if member.id not in skip
    ]
