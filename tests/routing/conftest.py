"""Routing fixtures: an empty queue, the background job held by the test (so the live
server's engine does not act behind its back), and teams removed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, update

from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.db import utcnow
from confide.routing import actions
from confide.routing.jobs import LEASE_NAME
from confide.routing.models import ConsolePresence, JobLease, OfficerState, Team
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.conftest import Persona

TEST_HOLDER = "pytest"


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


async def clear_routing(rt: Runtime) -> None:
    """Nobody waiting, nobody chatting, no team: each routing test starts from scratch."""
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(Conversation)
            .where(Conversation.status.in_((Status.WAITING, Status.ACTIVE)))
            .values(status=Status.CLOSED, closed_at=tx.now)
        )
        await tx.session.execute(delete(Team))
        await tx.session.execute(update(OfficerState).values(availability="offline", connections=0))
        await tx.session.execute(delete(ConsolePresence))


@pytest.fixture
async def routing(rt: Runtime) -> AsyncIterator[Runtime]:
    """The routing job is the test's: the live server stands down while it holds the lease."""
    await clear_routing(rt)
    await hold_routing_lease(rt)
    yield rt
    await clear_routing(rt)


async def hold_routing_lease(rt: Runtime) -> None:
    """Take the routing lease for the tests and keep it (routing tests follow each other).

    When it is taken from the live server, wait until the server has checked its lease again:
    a holder re-checks every third of the lease period and would otherwise keep assigning for
    up to that long (seen as conversations assigned behind the race test's back).
    """
    async with rt.reading() as session:
        lease = await session.get(JobLease, LEASE_NAME)
    if lease is not None and lease.holder == TEST_HOLDER:
        await _steal(rt)  # ours already: extend it
        return
    held_by_server = lease is not None and lease.expires_at > utcnow()
    if not await actions.acquire_lease(
        rt, name=LEASE_NAME, holder=TEST_HOLDER, seconds=3600, now=utcnow()
    ):
        await _steal(rt)
    if held_by_server:
        await asyncio.sleep(rt.settings.routing_lease_s / 3 + 1.5)


async def _steal(rt: Runtime) -> None:
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(JobLease)
            .where(JobLease.name == LEASE_NAME)
            .values(holder=TEST_HOLDER, expires_at=utcnow() + timedelta(hours=1))
        )


@pytest.fixture
async def live_routing(rt: Runtime) -> AsyncIterator[Runtime]:
    """Clean state, and the live server's engine free to run."""
    await clear_routing(rt)
    async with rt.transaction() as tx:
        await tx.session.execute(delete(JobLease).where(JobLease.name == LEASE_NAME))
    yield rt
    await clear_routing(rt)


MakeTeam = Callable[..., Awaitable[int]]


@pytest.fixture
def make_team(rt: Runtime) -> MakeTeam:
    async def make(
        name: str,
        *,
        kind: str = "police",
        departements: str = "",
        channels: str = "domestic sexual discrimination",
        mode: str = "auto",
        members: list[Persona] = (),  # type: ignore[assignment]
    ) -> int:
        spec = actions.check_team(
            name=name, kind=kind, channels=channels, departements=departements, mode=mode
        )
        team = await actions.save_team(rt, actor=None, spec=spec)
        for persona in members:
            await actions.set_membership(
                rt, actor=None, team_id=team.id, staff_id=persona.id, member=True
            )
        return team.id

    return make


async def on_duty(rt: Runtime, persona: Persona, *, capacity: int | None = None) -> None:
    """The officer's console is open and they are available."""
    await actions.console_connected(rt, staff_id=persona.id)
    await actions.set_availability(rt, staff=identity(persona), availability="available")
    if capacity is not None:
        async with rt.transaction() as tx:
            await tx.session.execute(
                update(OfficerState)
                .where(OfficerState.staff_id == persona.id)
                .values(capacity=capacity)
            )


def at(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)
