"""Conversation actions, called directly on the database under test."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from confide.audit.models import AuditEvent
from confide.conversations import actions, queries
from confide.conversations.errors import (
    AlreadyTaken,
    ConversationClosed,
    ConversationInvalid,
    MessageEmpty,
    MessageTooLong,
    PostcodeInvalid,
    TokenInvalid,
)
from confide.conversations.models import Conversation
from confide.conversations.schemas import Author, AuthorKind, Status
from confide.errors import PermissionDenied
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.casework.helpers import QUALIFICATION
from tests.conftest import Persona

VISITOR = Author(AuthorKind.VISITOR)


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


def listen(rt: Runtime, topic: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    asyncio.get_running_loop().create_task(rt.bus.subscribe(topic, received.append))
    return received


async def start(rt: Runtime, postcode: str = "75011") -> tuple[Conversation, str]:
    return await actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode=postcode, lang="fr"
    )


async def test_start_routes_the_postcode_to_its_departement(rt: Runtime) -> None:
    conversation, token = await start(rt, " 13 780 ")
    assert (conversation.postcode, conversation.departement) == ("13780", "13")
    assert conversation.status == Status.WAITING
    assert len(token) == 43
    # Only a digest of the token is stored.
    async with rt.reading() as session:
        stored = await session.get(Conversation, conversation.id)
    assert stored is not None
    assert stored.token_digest != token
    assert token not in (stored.token_digest or "")


async def test_unknown_but_well_formed_postcode_goes_to_the_national_queue(rt: Runtime) -> None:
    conversation, _ = await start(rt, "00000")
    assert conversation.departement == ""
    assert conversation.status == Status.WAITING


@pytest.mark.parametrize("postcode", ["7501", "750111", "ABCDE", "", "75O11"])
async def test_ill_formed_postcode_is_refused(rt: Runtime, postcode: str) -> None:
    with pytest.raises(PostcodeInvalid):
        await start(rt, postcode)


async def test_unknown_channel_or_role_is_refused(rt: Runtime) -> None:
    with pytest.raises(ConversationInvalid):
        await actions.start_conversation(
            rt, channel="other", visitor_role="victim", postcode="75011", lang="fr"
        )
    with pytest.raises(ConversationInvalid):
        await actions.start_conversation(
            rt, channel="sexual", visitor_role="author", postcode="75011", lang="fr"
        )


async def test_forged_token_is_refused(rt: Runtime) -> None:
    await start(rt)
    for forged in ["", "x" * 43, "short", "y" * 500]:
        with pytest.raises(TokenInvalid):
            await actions.conversation_for_token(rt, forged)


async def test_messages_get_consecutive_sequence_numbers(rt: Runtime) -> None:
    conversation, _ = await start(rt)
    seqs = []
    for n in range(5):
        sent = await actions.send_message(
            rt,
            conversation_id=conversation.id,
            author=VISITOR,
            client_id=str(uuid.uuid4()),
            body=f"m{n}",
        )
        seqs.append(sent.message.seq)
    assert seqs == [1, 2, 3, 4, 5]


async def test_same_client_id_stores_one_message_even_when_sent_concurrently(rt: Runtime) -> None:
    conversation, _ = await start(rt)
    client_id = str(uuid.uuid4())
    results = await asyncio.gather(
        *[
            actions.send_message(
                rt,
                conversation_id=conversation.id,
                author=VISITOR,
                client_id=client_id,
                body="once",
            )
            for _ in range(5)
        ]
    )
    assert {r.message.seq for r in results} == {1}
    assert sum(r.created for r in results) == 1
    async with rt.reading() as session:
        count = await queries.count_messages(session, conversation.id)
    assert count == 1


async def test_publication_happens_after_commit_and_not_on_failure(rt: Runtime) -> None:
    conversation, _ = await start(rt)
    received = listen(rt, actions.conversation_topic(conversation.id))
    await asyncio.sleep(0)
    sent = await actions.send_message(
        rt,
        conversation_id=conversation.id,
        author=VISITOR,
        client_id=str(uuid.uuid4()),
        body="hello",
    )
    assert [p["seq"] for p in received] == [sent.message.seq]
    # When a transaction fails, nothing is published and nothing is stored.

    async def failing() -> None:
        async with rt.transaction() as tx:
            tx.publish_on_commit(
                actions.conversation_topic(conversation.id), {"type": "message", "seq": 99}
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    assert [p["seq"] for p in received] == [sent.message.seq]


async def test_bad_bodies_are_refused_and_nothing_is_stored(rt: Runtime) -> None:
    conversation, _ = await start(rt)
    for body, error in [("", MessageEmpty), ("  \n ", MessageEmpty), ("x" * 4001, MessageTooLong)]:
        with pytest.raises(error):
            await actions.send_message(
                rt,
                conversation_id=conversation.id,
                author=VISITOR,
                client_id=str(uuid.uuid4()),
                body=body,
            )
    async with rt.reading() as session:
        assert await queries.count_messages(session, conversation.id) == 0


async def test_take_is_atomic_one_winner(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation, _ = await start(rt)
    results = await asyncio.gather(
        actions.take_conversation(
            rt, staff=identity(officer_paris), conversation_id=conversation.id
        ),
        actions.take_conversation(
            rt, staff=identity(officer_national), conversation_id=conversation.id
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Conversation)]
    losers = [r for r in results if isinstance(r, AlreadyTaken)]
    assert len(winners) == 1
    assert len(losers) == 1
    async with rt.reading() as session:
        audit = await session.scalar(
            select(func.count()).where(
                AuditEvent.conversation_id == conversation.id,
                AuditEvent.action == "conversation.assigned",
            )
        )
    assert audit == 1


async def test_only_the_assigned_officer_writes_and_closes(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation, _ = await start(rt)
    paris, other = identity(officer_paris), identity(officer_national)
    with pytest.raises(PermissionDenied):
        await actions.send_message(
            rt,
            conversation_id=conversation.id,
            author=Author(AuthorKind.OFFICER, paris.id),
            client_id=str(uuid.uuid4()),
            body="before taking",
        )
    await actions.take_conversation(rt, staff=paris, conversation_id=conversation.id)
    with pytest.raises(PermissionDenied):
        await actions.send_message(
            rt,
            conversation_id=conversation.id,
            author=Author(AuthorKind.OFFICER, other.id),
            client_id=str(uuid.uuid4()),
            body="not mine",
        )
    with pytest.raises(PermissionDenied):
        await actions.close_conversation(
            rt, staff=other, conversation_id=conversation.id, qualification=QUALIFICATION
        )
    await actions.close_conversation(
        rt, staff=paris, conversation_id=conversation.id, qualification=QUALIFICATION
    )
    with pytest.raises(ConversationClosed):
        await actions.send_message(
            rt,
            conversation_id=conversation.id,
            author=VISITOR,
            client_id=str(uuid.uuid4()),
            body="after",
        )


async def test_admin_cannot_open_a_conversation(
    rt: Runtime, admin: Persona, supervisor: Persona
) -> None:
    conversation, _ = await start(rt)
    with pytest.raises(PermissionDenied):
        await actions.open_for_staff(rt, staff=identity(admin), conversation_id=conversation.id)
    # A supervisor may, and the read is audited.
    await actions.open_for_staff(rt, staff=identity(supervisor), conversation_id=conversation.id)
    async with rt.reading() as session:
        reads = await session.scalar(
            select(func.count()).where(
                AuditEvent.conversation_id == conversation.id,
                AuditEvent.action == "conversation.read",
                AuditEvent.actor_staff_id == supervisor.id,
            )
        )
    assert reads == 1


async def test_quick_exit_abandons_a_waiting_conversation(rt: Runtime) -> None:
    conversation, token = await start(rt)
    await actions.visitor_leaves(rt, token=token, erase=False)
    async with rt.reading() as session:
        stored = await session.get(Conversation, conversation.id)
    assert stored is not None
    assert stored.status == Status.ABANDONED
    assert stored.token_digest is not None


async def test_erase_unlinks_the_token_and_tells_the_officer(
    rt: Runtime, officer_paris: Persona
) -> None:
    conversation, token = await start(rt)
    await actions.take_conversation(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    await actions.visitor_leaves(rt, token=token, erase=True)
    with pytest.raises(TokenInvalid):
        await actions.conversation_for_token(rt, token)
    async with rt.reading() as session:
        stored = await session.get(Conversation, conversation.id)
        last = (await queries.messages_after(session, rt.keyring, conversation.id, 0))[-1].body
    assert stored is not None
    assert stored.status == Status.ERASED
    assert stored.token_digest is None
    assert last == "visitor_erased"
