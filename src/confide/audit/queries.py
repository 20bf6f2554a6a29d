from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.audit.actions import GENESIS, entry_hash
from confide.audit.models import AuditEvent


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
