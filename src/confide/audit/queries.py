from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.audit.actions import GENESIS, entry_hash
from confide.audit.models import AuditEvent
from confide.staff.models import StaffMember


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Walk the log in order; report the first entry whose link or content does not match."""
    prev = GENESIS
    checked = 0
    result = await session.stream_scalars(select(AuditEvent).order_by(AuditEvent.id))
    async for event in result:
        if event.prev_hash != prev:
            return ChainReport(
                checked, event.id, "previous hash does not match (row deleted or inserted)"
            )
        if entry_hash(event) != event.hash:
            return ChainReport(checked, event.id, "content does not match its hash (row modified)")
        prev = event.hash
        checked += 1
    return ChainReport(checked, None)


PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """Search criteria of the audit log page; each one optional."""

    action: str = ""
    username: str = ""
    conversation_id: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    action: str
    actor: str
    conversation_id: str | None
    detail: str


async def search(
    session: AsyncSession, filters: AuditFilters, *, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[AuditRow], bool]:
    """Entries matching `filters`, newest first, one page; and whether older ones follow.

    Entries hold identifiers and small facts only (never content, never an address), so the
    page shows them as they are."""
    actor = func.coalesce(StaffMember.username, AuditEvent.actor_label)
    query = (
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.action,
            actor,
            AuditEvent.conversation_id,
            AuditEvent.detail,
        )
        .outerjoin(StaffMember, StaffMember.id == AuditEvent.actor_staff_id)
        .order_by(AuditEvent.id.desc())
        .offset((max(page, 1) - 1) * page_size)
        .limit(page_size + 1)
    )
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.username:
        query = query.where(StaffMember.username == filters.username)
    if filters.conversation_id:
        query = query.where(AuditEvent.conversation_id == filters.conversation_id)
    if filters.date_from:
        query = query.where(AuditEvent.at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to:
        query = query.where(
            AuditEvent.at < datetime.combine(filters.date_to + timedelta(days=1), time.min)
        )
    rows = [AuditRow(*row) for row in await session.execute(query)]
    return rows[:page_size], len(rows) > page_size
