"""Retention, with a controlled clock: the test's data is dated in the year 2000 so that the
purge (as of 2001) touches nothing else of the shared database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from confide.conversations import actions as conversation_actions
from confide.conversations.models import Conversation, Message
from confide.disclosure import actions
from confide.disclosure.jobs import PurgeJob
from confide.disclosure.models import DisclosureRequest, SealedMetadata, VoluntaryIdentity
from confide.disclosure.schemas import ConnectionInfo, RequestStatus
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.casework.helpers import QUALIFICATION
from tests.conftest import PROSECUTOR_PASSPHRASE, Persona

PAST = datetime(2000, 1, 1, 12, 0)
CONNECTION = ConnectionInfo(ip="198.51.100.40", port=1234, user_agent="test")


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


def at(rt: Runtime, moment: datetime) -> Runtime:
    return replace(rt, clock=lambda: moment)


async def started(rt: Runtime) -> str:
    conversation, _ = await conversation_actions.start_conversation(
        rt,
        channel="sexual",
        visitor_role="witness",
        postcode="75011",
        lang="fr",
        connection=CONNECTION,
    )
    return conversation.id


async def exists(rt: Runtime, model: type, conversation_id: str) -> bool:
    async with rt.reading() as session:
        column = model.conversation_id if model is not Conversation else Conversation.id  # type: ignore[attr-defined]
        return (await session.scalar(select(column).where(column == conversation_id))) is not None


async def test_purge_deletes_what_is_past_retention_and_keeps_the_rest(
    rt: Runtime, prosecutor_key: int, officer_paris: Persona, prosecutor: Persona
) -> None:
    old = at(rt, PAST)
    officer = identity(officer_paris)
    # Ended in January 2000, with a message, an identity and sealed data: goes after 365 days.
    ended = await started(old)
    await conversation_actions.take_conversation(old, staff=officer, conversation_id=ended)
    await conversation_actions.send_message(
        old,
        conversation_id=ended,
        author=conversation_actions.Author(conversation_actions.AuthorKind.OFFICER, officer.id),
        client_id=str(uuid.uuid4()),
        body="bonjour",
    )
    await actions.give_identity(old, conversation_id=ended, fields={"name": "Old Name"})
    await conversation_actions.close_conversation(
        old, staff=officer, conversation_id=ended, qualification=QUALIFICATION
    )
    # Still open: kept, but its sealed data goes after 30 days…
    still_open = await started(old)
    # …unless a request about it is pending.
    pending = await started(old)
    await conversation_actions.take_conversation(old, staff=officer, conversation_id=pending)
    await actions.request_disclosure(
        old, staff=officer, conversation_id=pending, reason="immediate_danger", justification="x"
    )
    # Approved: the opened data is readable for 24 hours, then purged.
    approved = await started(old)
    await conversation_actions.take_conversation(old, staff=officer, conversation_id=approved)
    request = await actions.request_disclosure(
        old, staff=officer, conversation_id=approved, reason="suspected_minor", justification="y"
    )
    await actions.approve(
        old, staff=identity(prosecutor), request_id=request.id, passphrase=PROSECUTOR_PASSPHRASE
    )

    a_month_later = PAST + timedelta(days=31)
    dry = await actions.purge(rt, now=a_month_later, dry_run=True)
    assert (dry.conversations, dry.sealed_metadata, dry.revealed_metadata) == (0, 3, 1)
    assert await exists(rt, SealedMetadata, still_open)  # a dry run deletes nothing
    await actions.purge(rt, now=a_month_later)
    assert not await exists(rt, SealedMetadata, still_open)
    assert not await exists(rt, SealedMetadata, approved)
    assert await exists(rt, SealedMetadata, pending)
    async with rt.reading() as session:
        row = await session.get(DisclosureRequest, request.id, populate_existing=True)
    assert row is not None
    assert (row.status, row.revealed) == (RequestStatus.EXPIRED, None)

    a_year_later = PAST + timedelta(days=366)
    report = await actions.purge(rt, now=a_year_later)
    assert report.conversations == 1
    assert not await exists(rt, Conversation, ended)
    assert not await exists(rt, Message, ended)
    assert not await exists(rt, VoluntaryIdentity, ended)
    for kept in (still_open, pending, approved):
        assert await exists(rt, Conversation, kept)


async def test_the_purge_job_runs_on_one_node_at_a_time(rt: Runtime) -> None:
    lease = f"purge-test-{uuid.uuid4().hex[:8]}"
    first, second = PurgeJob(rt, "node-a", lease), PurgeJob(rt, "node-b", lease)
    now = PAST
    assert await first.run_once(now) is not None
    assert await second.run_once(now) is None
    assert await first.run_once(now + timedelta(minutes=5)) is not None  # renews
    # The holder stops (dies): after its lease runs out the other node takes over.
    later = now + timedelta(seconds=2 * rt.settings.purge_interval_s + 301)
    assert await second.run_once(later) is not None
    assert await first.run_once(later) is None
