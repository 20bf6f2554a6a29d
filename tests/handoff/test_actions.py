"""Hand-offs to a psychologist, observers and supervision, on the database under test."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from confide.conversations import actions as conversation_actions
from confide.conversations.schemas import Author, AuthorKind
from confide.errors import PermissionDenied
from confide.handoff import actions
from confide.handoff.errors import (
    HandoffAlreadyPending,
    HandoffTaken,
    HandoffWithdrawn,
    NoPsychologistAvailable,
    OutOfScope,
)
from confide.handoff.queries import live_conversations, pending_for_psychologists
from confide.routing import actions as routing_actions
from confide.routing.models import ConversationTransfer
from confide.routing.queries import transfers_of
from confide.runtime import Runtime
from tests.conftest import Persona, make_staff
from tests.handoff.support import (
    active_conversation,
    audit_actions,
    audit_details,
    clean,  # noqa: F401  (fixture)
    conversation,
    drop_team,
    handoffs_of,
    identity,
    off_duty,
    psychologist_on_duty,
    system_messages,
    team_for,
)

pytestmark = pytest.mark.usefixtures("clean")


async def send(rt: Runtime, persona: Persona, conversation_id: str, body: str) -> int:
    sent = await conversation_actions.send_message(
        rt,
        conversation_id=conversation_id,
        author=Author(AuthorKind(persona.role), persona.id),
        client_id=str(uuid.uuid4()),
        body=body,
    )
    return sent.message.seq


async def test_no_psychologist_available_refuses_at_once_and_stores_nothing(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    # A psychologist exists but their console is closed: nobody can take it now.
    with pytest.raises(NoPsychologistAvailable) as raised:
        await actions.request_handoff(
            rt,
            staff=identity(officer_paris),
            conversation_id=conversation_id,
            note="Needs support",
            stay=False,
        )
    assert "No psychologist is available right now" in raised.value.message
    assert await handoffs_of(rt, conversation_id) == []
    assert "handoff.requested" not in await audit_actions(rt, conversation_id)
    # Connected but busy: still nobody.
    await psychologist_on_duty(rt, psychologist)
    try:
        await routing_actions.set_availability(
            rt, staff=identity(psychologist), availability="busy"
        )
        with pytest.raises(NoPsychologistAvailable):
            await actions.request_handoff(
                rt,
                staff=identity(officer_paris),
                conversation_id=conversation_id,
                note="",
                stay=True,
            )
        assert await handoffs_of(rt, conversation_id) == []
    finally:
        await off_duty(rt, psychologist)


async def test_request_then_accept_moves_the_conversation_and_keeps_the_note(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    await psychologist_on_duty(rt, psychologist)
    try:
        handoff = await actions.request_handoff(
            rt,
            staff=identity(officer_paris),
            conversation_id=conversation_id,
            note="Very anxious, talks about her children",
            stay=False,
        )
        # Only the officer in charge may ask, and only once at a time.
        other = await make_staff(rt, "officer")
        with pytest.raises(PermissionDenied):
            await actions.request_handoff(
                rt, staff=identity(other), conversation_id=conversation_id, note="", stay=False
            )
        with pytest.raises(HandoffAlreadyPending):
            await actions.request_handoff(
                rt,
                staff=identity(officer_paris),
                conversation_id=conversation_id,
                note="",
                stay=False,
            )
        # The note is stored encrypted, and psychologists see it in the pending list.
        stored = (await handoffs_of(rt, conversation_id))[0]
        assert stored.note_ciphertext is not None
        assert b"anxious" not in stored.note_ciphertext
        async with rt.reading() as session:
            pending = await pending_for_psychologists(session, rt.keyring, rt.clock())
        mine = [item for item in pending if item["conversation_id"] == conversation_id]
        assert mine[0]["note"] == "Very anxious, talks about her children"
        assert mine[0]["channel"] == "domestic"
        assert mine[0]["departement"] == "75"

        # The officer keeps chatting meanwhile.
        await send(rt, officer_paris, conversation_id, "A psychologist will join us soon.")

        await actions.accept_handoff(rt, staff=identity(psychologist), handoff_id=handoff.id)
        row = await conversation(rt, conversation_id)
        assert row.assigned_staff_id == psychologist.id
        assert (await system_messages(rt, conversation_id))[-1] == "transferred_psychologist"
        [accepted] = await handoffs_of(rt, conversation_id)
        assert accepted.status == "accepted"
        assert accepted.psychologist_id == psychologist.id
        # The note reached the psychologist with the hand-over notes.
        async with rt.reading() as session:
            notes = await transfers_of(session, rt.keyring, conversation_id)
        assert [n.note for n in notes] == ["Very anxious, talks about her children"]
        actions_logged = await audit_actions(rt, conversation_id)
        assert "handoff.requested" in actions_logged
        assert "handoff.accepted" in actions_logged
        assert not any("anxious" in d for d in await audit_details(rt, conversation_id))

        # The psychologist writes; the officer who left may not.
        await send(rt, psychologist, conversation_id, "Hello, I am a psychologist.")
        with pytest.raises(PermissionDenied):
            await send(rt, officer_paris, conversation_id, "Still here?")
        with pytest.raises(PermissionDenied):
            await conversation_actions.open_for_staff(
                rt, staff=identity(officer_paris), conversation_id=conversation_id
            )
    finally:
        await off_duty(rt, psychologist)


async def test_officer_who_stays_observes_but_cannot_write(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    await psychologist_on_duty(rt, psychologist)
    try:
        handoff = await actions.request_handoff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id, note="", stay=True
        )
        await actions.accept_handoff(rt, staff=identity(psychologist), handoff_id=handoff.id)
        # Still allowed to open it (reconnects), as an observer.
        await conversation_actions.open_for_staff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id
        )
        with pytest.raises(PermissionDenied) as refused:
            await send(rt, officer_paris, conversation_id, "I am still here")
        assert "observer" in refused.value.message
        # Leaving ends the observation.
        await actions.leave_conversation(
            rt, staff=identity(officer_paris), conversation_id=conversation_id
        )
        with pytest.raises(PermissionDenied):
            await conversation_actions.open_for_staff(
                rt, staff=identity(officer_paris), conversation_id=conversation_id
            )
    finally:
        await off_duty(rt, psychologist)


async def test_two_psychologists_accepting_at_once_one_wins(
    rt: Runtime, officer_paris: Persona
) -> None:
    first, second = await make_staff(rt, "psychologist"), await make_staff(rt, "psychologist")
    conversation_id = await active_conversation(rt, officer_paris)
    await psychologist_on_duty(rt, first)
    await psychologist_on_duty(rt, second)
    try:
        handoff = await actions.request_handoff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id, note="", stay=False
        )
        results = await asyncio.gather(
            actions.accept_handoff(rt, staff=identity(first), handoff_id=handoff.id),
            actions.accept_handoff(rt, staff=identity(second), handoff_id=handoff.id),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        assert len(losers) == 1
        assert isinstance(losers[0], HandoffTaken)
        row = await conversation(rt, conversation_id)
        assert row.assigned_staff_id in (first.id, second.id)
        assert (await system_messages(rt, conversation_id)).count("transferred_psychologist") == 1
        async with rt.reading() as session:
            moves = await session.scalar(
                select(func.count()).where(ConversationTransfer.conversation_id == conversation_id)
            )
        assert moves == 1
    finally:
        await off_duty(rt, first)
        await off_duty(rt, second)


async def test_cancel_withdraws_the_request(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    await psychologist_on_duty(rt, psychologist)
    try:
        handoff = await actions.request_handoff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id, note="x", stay=False
        )
        # A psychologist may read the history while it is pending (audited)...
        await conversation_actions.open_for_staff(
            rt, staff=identity(psychologist), conversation_id=conversation_id
        )
        assert "conversation.read" in await audit_actions(rt, conversation_id, actor=psychologist)
        with pytest.raises(PermissionDenied):
            await actions.cancel_handoff(
                rt, staff=identity(await make_staff(rt, "officer")), handoff_id=handoff.id
            )
        await actions.cancel_handoff(rt, staff=identity(officer_paris), handoff_id=handoff.id)
        assert [h.status for h in await handoffs_of(rt, conversation_id)] == ["cancelled"]
        assert "handoff.cancelled" in await audit_actions(rt, conversation_id)
        # ... not any more once cancelled, and it can no longer be accepted.
        with pytest.raises(PermissionDenied):
            await conversation_actions.open_for_staff(
                rt, staff=identity(psychologist), conversation_id=conversation_id
            )
        with pytest.raises(HandoffWithdrawn):
            await actions.accept_handoff(rt, staff=identity(psychologist), handoff_id=handoff.id)
        assert (await conversation(rt, conversation_id)).assigned_staff_id == officer_paris.id
        # A new request is possible after a cancel.
        await actions.request_handoff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id, note="", stay=False
        )
    finally:
        await off_duty(rt, psychologist)


async def test_psychologist_without_pending_handoff_cannot_open(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    with pytest.raises(PermissionDenied):
        await conversation_actions.open_for_staff(
            rt, staff=identity(psychologist), conversation_id=conversation_id
        )
    assert await audit_actions(rt, conversation_id, actor=psychologist) == []


async def test_a_handoff_of_a_conversation_that_moved_on_cannot_be_accepted(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id = await active_conversation(rt, officer_paris)
    await psychologist_on_duty(rt, psychologist)
    try:
        handoff = await actions.request_handoff(
            rt, staff=identity(officer_paris), conversation_id=conversation_id, note="", stay=False
        )
        # The officer transferred it to a colleague meanwhile.
        colleague = await make_staff(rt, "officer")
        await routing_actions.transfer_conversation(
            rt,
            staff=identity(officer_paris),
            conversation_id=conversation_id,
            to_staff_id=colleague.id,
        )
        with pytest.raises(HandoffWithdrawn):
            await actions.accept_handoff(rt, staff=identity(psychologist), handoff_id=handoff.id)
        async with rt.reading() as session:
            pending = await pending_for_psychologists(session, rt.keyring, rt.clock())
        assert conversation_id not in [item["conversation_id"] for item in pending]
    finally:
        await off_duty(rt, psychologist)


async def test_supervisor_reads_joins_and_reassigns_within_their_teams(
    rt: Runtime, officer_paris: Persona, supervisor: Persona
) -> None:
    colleague = await make_staff(rt, "officer")
    team_id = await team_for(rt, [supervisor, officer_paris, colleague])
    try:
        conversation_id = await active_conversation(rt, officer_paris)
        outside = await active_conversation(rt, officer_paris, postcode="48000")
        with pytest.raises(OutOfScope):
            await actions.supervise_read(rt, staff=identity(supervisor), conversation_id=outside)
        with pytest.raises(PermissionDenied):
            await actions.supervise_read(
                rt, staff=identity(colleague), conversation_id=conversation_id
            )

        await actions.supervise_read(
            rt, staff=identity(supervisor), conversation_id=conversation_id
        )
        assert "conversation.read" in await audit_actions(rt, conversation_id, actor=supervisor)
        with pytest.raises(PermissionDenied):
            await send(rt, supervisor, conversation_id, "Reading only")

        await actions.join_conversation(
            rt, staff=identity(supervisor), conversation_id=conversation_id
        )
        assert (await system_messages(rt, conversation_id))[-1] == "assigned_supervisor"
        assert "conversation.joined" in await audit_actions(rt, conversation_id, actor=supervisor)
        await send(rt, supervisor, conversation_id, "Hello, I am the supervisor.")
        await send(rt, officer_paris, conversation_id, "And I am still here.")
        # Joining again tells the visitor nothing new.
        await actions.join_conversation(
            rt, staff=identity(supervisor), conversation_id=conversation_id
        )
        assert (await system_messages(rt, conversation_id)).count("assigned_supervisor") == 1

        await actions.reassign_conversation(
            rt,
            staff=identity(supervisor),
            conversation_id=conversation_id,
            to_staff_id=colleague.id,
        )
        row = await conversation(rt, conversation_id)
        assert row.assigned_staff_id == colleague.id
        assert (await system_messages(rt, conversation_id))[-1] == "transferred_officer"
        assert "conversation.reassigned" in await audit_actions(
            rt, conversation_id, actor=supervisor
        )
        await send(rt, colleague, conversation_id, "I take over.")
        with pytest.raises(PermissionDenied):
            await send(rt, officer_paris, conversation_id, "Me too?")
    finally:
        await drop_team(rt, team_id)


async def test_a_national_supervisor_sees_every_live_conversation(
    rt: Runtime, officer_paris: Persona
) -> None:
    national = await make_staff(rt, "supervisor")
    local = await make_staff(rt, "supervisor")
    teams = [
        await team_for(rt, [national], kind="national", departements=""),
        await team_for(rt, [local], departements="48"),
    ]
    try:
        paris = await active_conversation(rt, officer_paris)
        lozere = await active_conversation(rt, officer_paris, postcode="48000")
        async with rt.reading() as session:
            everything = await live_conversations(session, national.id, rt.clock())
            theirs = await live_conversations(session, local.id, rt.clock())
        assert {paris, lozere} <= {item["conversation_id"] for item in everything}
        assert [item["conversation_id"] for item in theirs] == [lozere]
        assert theirs[0]["in_charge"]["role"] == "officer"
        assert isinstance(theirs[0]["flags"], list)
    finally:
        for team_id in teams:
            await drop_team(rt, team_id)
