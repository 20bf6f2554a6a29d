"""Reads for routing: who can answer which conversation now, teams, schedules, queue."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.routing.models import (
    ConversationTransfer,
    OfficerState,
    ShiftSlot,
    Team,
    TeamDepartement,
    TeamMember,
)
from confide.routing.schemas import Availability, TeamKind, TeamMode
from confide.security import crypto
from confide.security.keyring import KeyRing, decrypt_text
from confide.staff.models import StaffMember

log = logging.getLogger(__name__)

#: Conversations looked at per claim: far more than officers can take in one go.
QUEUE_WINDOW = 1000
LOCAL_KINDS = (TeamKind.POLICE, TeamKind.GENDARMERIE)


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    kind: str
    mode: str
    channels: frozenset[str]
    departements: frozenset[str]


@dataclass
class OfficerInfo:
    staff_id: int
    role: str
    display_name: str
    capacity: int
    availability: str
    connections: int
    on_shift: bool
    active: int
    teams: set[int] = field(default_factory=set)

    @property
    def can_receive(self) -> bool:
        """Available, connected, on shift and under capacity."""
        return (
            self.availability == Availability.AVAILABLE
            and self.connections > 0
            and self.on_shift
            and self.active < self.capacity
        )


@dataclass(frozen=True)
class WaitingRow:
    id: str
    channel: str
    departements: tuple[str, ...]
    priority: int
    waiting_since: datetime
    team_id: int | None


@dataclass
class Snapshot:
    teams: dict[int, TeamInfo]
    officers: dict[int, OfficerInfo]

    def local_teams_for(self, row: WaitingRow) -> list[TeamInfo]:
        return [
            team
            for team in self.teams.values()
            if team.kind in LOCAL_KINDS
            and row.channel in team.channels
            and team.departements.intersection(row.departements)
        ]

    def eligible_teams(self, row: WaitingRow, now: datetime, overflow_s: int) -> list[TeamInfo]:
        """Teams that may answer this conversation now.

        A transferred conversation goes to its team only. Otherwise the local teams covering
        one of its départements (codes spanning two: either) with the chat; the national team
        at once when no local team covers it (unknown or fake code), or after the overflow delay.
        """
        if row.team_id is not None:
            team = self.teams.get(row.team_id)
            return [team] if team is not None else []
        local = self.local_teams_for(row)
        overflowed = (now - row.waiting_since).total_seconds() >= overflow_s
        if not local or overflowed:
            local += [
                team
                for team in self.teams.values()
                if team.kind == TeamKind.NATIONAL and row.channel in team.channels
            ]
        return local

    def best_officer(
        self,
        row: WaitingRow,
        now: datetime,
        overflow_s: int,
        *,
        auto_only: bool,
        exclude: Iterable[int] = (),
    ) -> OfficerInfo | None:
        """The officer who should get this conversation: fewest active chats, then lowest id."""
        teams = {
            team.id
            for team in self.eligible_teams(row, now, overflow_s)
            if not auto_only or team.mode == TeamMode.AUTO
        }
        skip = set(exclude)
        candidates = [
            officer
            for officer in self.officers.values()
            if officer.teams & teams and officer.can_receive and officer.staff_id not in skip
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda o: (o.active, o.staff_id))


def on_shift(slots: Iterable[ShiftSlot], now: datetime) -> bool:
    """No slot at all means no schedule: always on shift."""
    slots = list(slots)
    if not slots:
        return True
    minute = now.hour * 60 + now.minute
    return any(
        s.weekday == now.weekday() and s.start_minute <= minute < s.end_minute for s in slots
    )


def last_shift_end(slots: Iterable[ShiftSlot], now: datetime) -> datetime | None:
    """When the most recent slot ended (None without a schedule, or while on shift)."""
    slots = list(slots)
    if not slots or on_shift(slots, now):
        return None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ends = []
    for slot in slots:
        days_back = (now.weekday() - slot.weekday) % 7
        end = midnight - timedelta(days=days_back) + timedelta(minutes=slot.end_minute)
        if end > now:
            end -= timedelta(days=7)
        ends.append(end)
    return max(ends)


async def active_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Conversation.assigned_staff_id, func.count())
        .where(Conversation.status == Status.ACTIVE, Conversation.assigned_staff_id.is_not(None))
        .group_by(Conversation.assigned_staff_id)
    )
    return {int(staff_id or 0): int(count) for staff_id, count in rows}


async def active_count(session: AsyncSession, staff_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Conversation.status == Status.ACTIVE, Conversation.assigned_staff_id == staff_id
            )
        )
        or 0
    )


async def load_teams(session: AsyncSession) -> dict[int, TeamInfo]:
    coverage: defaultdict[int, set[str]] = defaultdict(set)
    for team_id, departement in await session.execute(
        select(TeamDepartement.team_id, TeamDepartement.departement)
    ):
        coverage[team_id].add(departement)
    teams = {}
    for team in await session.scalars(select(Team).order_by(Team.name)):
        teams[team.id] = TeamInfo(
            id=team.id,
            name=team.name,
            kind=team.kind,
            mode=team.mode,
            channels=frozenset(team.channels.split()),
            departements=frozenset(coverage[team.id]),
        )
    return teams


async def snapshot(session: AsyncSession, now: datetime, default_capacity: int) -> Snapshot:
    """Teams and the officers who belong to one, with their state and active chats."""
    teams = await load_teams(session)
    members: defaultdict[int, set[int]] = defaultdict(set)
    for team_id, staff_id in await session.execute(select(TeamMember.team_id, TeamMember.staff_id)):
        members[staff_id].add(team_id)
    if not members:
        return Snapshot(teams, {})
    slots: defaultdict[int, list[ShiftSlot]] = defaultdict(list)
    for slot in await session.scalars(
        select(ShiftSlot).where(ShiftSlot.staff_id.in_(list(members)))
    ):
        slots[slot.staff_id].append(slot)
    counts = await active_counts(session)
    rows = await session.execute(
        select(StaffMember, OfficerState)
        .outerjoin(OfficerState, OfficerState.staff_id == StaffMember.id)
        .where(StaffMember.id.in_(list(members)), StaffMember.is_active)
    )
    officers = {}
    for member, state in rows:
        officers[member.id] = OfficerInfo(
            staff_id=member.id,
            role=member.role,
            display_name=member.display_name,
            capacity=state.capacity if state else default_capacity,
            availability=state.availability if state else Availability.OFFLINE,
            connections=state.connections if state else 0,
            on_shift=on_shift(slots[member.id], now),
            active=counts.get(member.id, 0),
            teams=members[member.id],
        )
    return Snapshot(teams, officers)


async def waiting_rows(session: AsyncSession, limit: int = QUEUE_WINDOW) -> list[WaitingRow]:
    """Waiting conversations in the order they are answered: priority (immediate danger,
    suspected minor) first, then conversations put back at the head, then the longest waiting."""
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.departements,
            Conversation.departement,
            Conversation.priority,
            Conversation.waiting_since,
            Conversation.created_at,
            Conversation.team_id,
        )
        .where(Conversation.status == Status.WAITING)
        .order_by(
            Conversation.priority.desc(),
            Conversation.requeued_at.is_(None),
            Conversation.created_at,
            Conversation.id,
        )
        .limit(limit)
    )
    return [
        WaitingRow(
            id=row.id,
            channel=row.channel,
            departements=tuple((row.departements or row.departement).split()),
            priority=row.priority,
            waiting_since=row.waiting_since or row.created_at,
            team_id=row.team_id,
        )
        for row in rows
    ]


async def memberships(session: AsyncSession) -> dict[int, set[int]]:
    """Every staff member's teams: staff id → team ids (members of no team are absent)."""
    teams: defaultdict[int, set[int]] = defaultdict(set)
    for staff_id, team_id in await session.execute(select(TeamMember.staff_id, TeamMember.team_id)):
        teams[staff_id].add(team_id)
    return dict(teams)


async def staff_teams(session: AsyncSession, staff_id: int) -> list[TeamInfo]:
    teams = await load_teams(session)
    ids = set(
        await session.scalars(select(TeamMember.team_id).where(TeamMember.staff_id == staff_id))
    )
    return [team for team in teams.values() if team.id in ids]


@dataclass(frozen=True)
class MemberRow:
    staff_id: int
    username: str
    display_name: str
    role: str
    capacity: int
    availability: str


async def team_members(
    session: AsyncSession, team_id: int, default_capacity: int
) -> list[MemberRow]:
    rows = await session.execute(
        select(StaffMember, OfficerState)
        .join(TeamMember, TeamMember.staff_id == StaffMember.id)
        .outerjoin(OfficerState, OfficerState.staff_id == StaffMember.id)
        .where(TeamMember.team_id == team_id)
        .order_by(StaffMember.username)
    )
    return [
        MemberRow(
            staff_id=member.id,
            username=member.username,
            display_name=member.display_name,
            role=member.role,
            capacity=state.capacity if state else default_capacity,
            availability=state.availability if state else Availability.OFFLINE,
        )
        for member, state in rows
    ]


async def chat_staff(session: AsyncSession) -> list[StaffMember]:
    """Accounts who chat (officers, psychologists, supervisors), for forms and transfers."""
    rows = await session.scalars(
        select(StaffMember)
        .where(
            StaffMember.is_active,
            StaffMember.role.in_(("officer", "psychologist", "supervisor")),
        )
        .order_by(StaffMember.username)
    )
    return list(rows)


async def shift_slots(session: AsyncSession, staff_id: int) -> list[ShiftSlot]:
    rows = await session.scalars(
        select(ShiftSlot)
        .where(ShiftSlot.staff_id == staff_id)
        .order_by(ShiftSlot.weekday, ShiftSlot.start_minute)
    )
    return list(rows)


@dataclass(frozen=True)
class TransferRow:
    from_role: str | None
    note: str
    at: datetime


async def transfers_of(
    session: AsyncSession, keyring: KeyRing, conversation_id: str
) -> list[TransferRow]:
    """Hand-overs of a conversation, notes decrypted (a damaged note reads as empty)."""
    rows = (
        await session.execute(
            select(ConversationTransfer.note_ciphertext, ConversationTransfer.at, StaffMember.role)
            .outerjoin(StaffMember, StaffMember.id == ConversationTransfer.from_staff_id)
            .where(ConversationTransfer.conversation_id == conversation_id)
            .order_by(ConversationTransfer.id)
        )
    ).all()
    key = (
        await conversation_queries.conversation_key(session, keyring, conversation_id)
        if any(ciphertext is not None for ciphertext, _, _ in rows)
        else b""
    )
    return [
        TransferRow(from_role=role, note=_note(key, ciphertext), at=at)
        for ciphertext, at, role in rows
    ]


def _note(key: bytes, ciphertext: bytes | None) -> str:
    if ciphertext is None:
        return ""
    try:
        return decrypt_text(key, ciphertext)
    except crypto.CryptoError:
        log.error("a hand-over note cannot be decrypted")
        return ""


async def officer_state(session: AsyncSession, staff_id: int) -> OfficerState | None:
    return await session.get(OfficerState, staff_id)
