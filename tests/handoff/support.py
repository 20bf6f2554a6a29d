"""Helpers of the hand-off and supervision tests (domain and socket)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, update

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.handoff.models import Handoff
from confide.routing import actions as routing_actions
from confide.routing.models import OfficerState, Team
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.conftest import Persona


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


async def nobody_available(rt: Runtime) -> None:
    """No staff member available and no open conversation: each test starts from scratch."""
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(Conversation)
            .where(Conversation.status.in_((Status.WAITING, Status.ACTIVE)))
            .values(status=Status.CLOSED, closed_at=tx.now)
        )
        await tx.session.execute(update(OfficerState).values(availability="offline"))


@pytest.fixture
async def clean(rt: Runtime) -> AsyncIterator[Runtime]:
    await nobody_available(rt)
    yield rt
    await nobody_available(rt)


async def psychologist_on_duty(rt: Runtime, persona: Persona) -> None:
    """As if the psychologist's console were open and they were available."""
    await routing_actions.console_connected(rt, staff_id=persona.id)
    await routing_actions.set_availability(rt, staff=identity(persona), availability="available")


async def off_duty(rt: Runtime, persona: Persona) -> None:
    await routing_actions.console_disconnected(rt, staff_id=persona.id)


async def active_conversation(
    rt: Runtime, officer: Persona, *, postcode: str = "75011", channel: str = "domestic"
) -> str:
    """A conversation started by a visitor and taken by `officer` (in the test process)."""
    conversation, _ = await conversation_actions.start_conversation(
        rt, channel=channel, visitor_role="victim", postcode=postcode, lang="en"
    )
    await conversation_actions.take_conversation(
        rt, staff=identity(officer), conversation_id=conversation.id
    )
    return conversation.id


async def conversation(rt: Runtime, conversation_id: str) -> Conversation:
    async with rt.reading() as session:
        row = await session.get(Conversation, conversation_id, populate_existing=True)
    assert row is not None
    return row


async def handoffs_of(rt: Runtime, conversation_id: str) -> list[Handoff]:
    async with rt.reading() as session:
        rows = await session.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)


async def audit_actions(
    rt: Runtime, conversation_id: str, *, actor: Persona | None = None
) -> list[str]:
    async with rt.reading() as session:
        query = select(AuditEvent.action).where(AuditEvent.conversation_id == conversation_id)
        if actor is not None:
            query = query.where(AuditEvent.actor_staff_id == actor.id)
        return list(await session.scalars(query.order_by(AuditEvent.id)))


async def audit_details(rt: Runtime, conversation_id: str) -> list[str]:
    async with rt.reading() as session:
        return list(
            await session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.conversation_id == conversation_id)
                .order_by(AuditEvent.id)
            )
        )


async def system_messages(rt: Runtime, conversation_id: str) -> list[str]:
    async with rt.reading() as session:
        messages = await conversation_queries.messages_after(
            session, rt.keyring, conversation_id, 0
        )
    return [m.body for m in messages if m.author == "system"]


async def team_for(
    rt: Runtime,
    members: list[Persona],
    *,
    kind: str = "police",
    departements: str = "75",
    channels: str = "domestic sexual discrimination",
) -> int:
    """A team taking conversations by hand ("pick": the engine gives it nothing)."""
    spec = routing_actions.check_team(
        name=f"team-{uuid.uuid4().hex[:8]}",
        kind=kind,
        channels=channels,
        departements=departements,
        mode="pick",
    )
    team = await routing_actions.save_team(rt, actor=None, spec=spec)
    for persona in members:
        await routing_actions.set_membership(
            rt, actor=None, team_id=team.id, staff_id=persona.id, member=True
        )
    return team.id


async def drop_team(rt: Runtime, team_id: int) -> None:
    async with rt.transaction() as tx:
        await tx.session.execute(delete(Team).where(Team.id == team_id))
