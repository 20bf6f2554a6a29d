"""The audit chain stays linear under concurrent writers, and carries no content."""

from __future__ import annotations

import asyncio

from confide.audit.actions import AuditAction, record
from confide.audit.queries import verify_chain
from confide.runtime import Runtime


async def test_concurrent_entries_keep_one_unbroken_chain(rt: Runtime) -> None:
    async def one(n: int) -> None:
        async with rt.transaction() as tx:
            await record(tx, AuditAction.CONVERSATION_READ, actor_staff_id=None, detail={"n": n})

    await asyncio.gather(*[one(n) for n in range(20)])
    async with rt.reading() as session:
        report = await verify_chain(session)
    assert report.ok, report
    assert report.checked >= 20
