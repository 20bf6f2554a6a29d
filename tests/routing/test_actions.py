"""Routing actions on the database under test, with a controlled clock: assignment by area
and skill, overflow to the national team, supervisor alerts, grace periods, shifts,
transfers, team import and job leases."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from confide.conversations import actions as conversation_actions
from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status
from confide.db import utcnow
from confide.routing import actions, queries
from confide.routing.errors import AtCapacity, TargetUnavailable
from confide.routing.models import ConversationTransfer, ShiftSlot
from confide.runtime import Runtime
from confide.web.realtime.queue import queue_frame
from tests.casework.helpers import QUALIFICATION
from tests.conftest import Persona, make_staff
from tests.routing.conftest import MakeTeam, at, identity, on_duty


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now = at(self.now, seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crt(routing: Runtime, clock: Clock) -> Runtime:
    """The runtime with the test's clock: every transaction's `now` comes from it."""
    return dataclasses.replace(routing, clock=clock)


async def start(rt: Runtime, postcode: str, channel: str = "domestic") -> str:
    if isinstance(rt.clock, Clock):
        rt.clock.advance(1)  # one visitor per second: a clear order of arrival
    conversation, _ = await conversation_actions.start_conversation(
        rt, channel=channel, visitor_role="victim", postcode=postcode, lang="fr"
    )
    return conversation.id


async def conversation(rt: Runtime, conversation_id: str) -> Conversation:
    async with rt.reading() as session:
        row = await session.get(Conversation, conversation_id)
    assert row is not None
    return row


async def system_messages(rt: Runtime, conversation_id: str) -> list[str]:
    async with rt.reading() as session:
        messages = await conversation_queries.messages_after(
            session, rt.keyring, conversation_id, 0
        )
    return [m.body for m in messages if m.author == "system"]


def listen(rt: Runtime, topic: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    asyncio.get_running_loop().create_task(rt.bus.subscribe(topic, received.append))
    return received


async def officer(rt: Runtime, name: str, role: str = "officer") -> Persona:
    return await make_staff(rt, role, name)


async def test_conversation_goes_to_the_local_officer_with_fewest_chats(
    crt: Runtime, make_team: MakeTeam
) -> None:
    busy, free, elsewhere = [await officer(crt, n) for n in ("busy", "free", "lyon")]
    await make_team("Paris", departements="75 92", members=[busy, free])
    await make_team("Lyon", departements="69", members=[elsewhere])
    for persona in (busy, free, elsewhere):
        await on_duty(crt, persona)
    first = await start(crt, "75011")
    await actions.tick(crt)
    holder = (await conversation(crt, first)).assigned_staff_id
    assert holder in (busy.id, free.id)
    other = free if holder == busy.id else busy
    second = await start(crt, "92100")
    await actions.tick(crt)
    assert (await conversation(crt, second)).assigned_staff_id == other.id
    assert (await system_messages(crt, second)) == ["assigned"]


async def test_a_code_spanning_two_departements_goes_to_the_team_with_capacity(
    crt: Runtime, make_team: MakeTeam
) -> None:
    ain, haute_savoie = await officer(crt, "ain"), await officer(crt, "haute-savoie")
    await make_team("Ain", departements="01", members=[ain])
    await make_team("Haute-Savoie", departements="74", members=[haute_savoie])
    await on_duty(crt, ain, capacity=1)
    await on_duty(crt, haute_savoie, capacity=1)
    await start(crt, "01000")  # Ain only: fills the Ain officer
    await actions.tick(crt)
    spanning = await start(crt, "01200")  # Bellegarde: Ain or Haute-Savoie
    await actions.tick(crt)
    assert (await conversation(crt, spanning)).assigned_staff_id == haute_savoie.id


async def test_unknown_code_goes_to_the_national_team_at_once(
    crt: Runtime, make_team: MakeTeam
) -> None:
    national = await officer(crt, "national")
    await make_team("National", kind="national", members=[national])
    await on_duty(crt, national)
    fake = await start(crt, "99999")
    await actions.tick(crt)
    assert (await conversation(crt, fake)).assigned_staff_id == national.id


async def test_skill_is_respected(crt: Runtime, make_team: MakeTeam) -> None:
    domestic_only = await officer(crt, "domestic")
    await make_team(
        "Paris domestic", departements="75", channels="domestic", members=[domestic_only]
    )
    await on_duty(crt, domestic_only)
    other = await start(crt, "75011", channel="discrimination")
    await actions.tick(crt)
    assert (await conversation(crt, other)).status == Status.WAITING


async def test_priority_first_then_longest_waiting(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    paris = await officer(crt, "paris")
    await make_team("Paris", departements="75", members=[paris])
    oldest = await start(crt, "75011")
    clock.advance(5)
    newer = await start(crt, "75012")
    clock.advance(5)
    urgent = await start(crt, "75013")
    async with crt.transaction() as tx:
        await tx.session.execute(
            update(Conversation).where(Conversation.id == urgent).values(priority=1)
        )
    await on_duty(crt, paris, capacity=1)
    await actions.tick(crt)
    assert (await conversation(crt, urgent)).status == Status.ACTIVE
    await conversation_actions.close_conversation(
        crt, staff=identity(paris), conversation_id=urgent, qualification=QUALIFICATION
    )
    await actions.tick(crt)
    assert (await conversation(crt, oldest)).status == Status.ACTIVE
    assert (await conversation(crt, newer)).status == Status.WAITING


async def test_overflow_to_national_then_alert_with_emergency_numbers(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    creuse, national, boss = (
        await officer(crt, "creuse"),
        await officer(crt, "national"),
        await officer(crt, "boss", "supervisor"),
    )
    await make_team("Gendarmerie Creuse", kind="gendarmerie", departements="23", members=[creuse])
    national_team = await make_team("National", kind="national", members=[national])
    await on_duty(crt, creuse, capacity=1)
    await on_duty(crt, national)
    alerts = listen(crt, actions.SUPERVISORS_TOPIC)
    await start(crt, "23000")  # fills the Creuse officer
    waiting = await start(crt, "23300")
    began = clock.now
    await actions.tick(crt, at(began, 59))
    assert (await conversation(crt, waiting)).status == Status.WAITING
    await actions.tick(crt, at(began, 60))
    assert (await conversation(crt, waiting)).assigned_staff_id == national.id

    # Nobody at all: after the second delay supervisors are alerted, the visitor sees numbers.
    await actions.set_availability(crt, staff=identity(national), availability="busy")
    lonely = await start(crt, "23200")
    began = clock.now
    report = await actions.tick(crt, at(began, 119))
    assert lonely not in report.alerted
    report = await actions.tick(crt, at(began, 120))
    assert report.alerted == [lonely]
    assert (await conversation(crt, lonely)).status == Status.WAITING, (
        (await conversation(crt, lonely)).assigned_staff_id,
        creuse.id,
        national.id,
    )
    await asyncio.sleep(0)
    assert [a["conversation_id"] for a in alerts] == [lonely]
    assert (await actions.tick(crt, at(began, 500))).alerted == []  # alerted once
    async with crt.reading() as session:
        queue = await conversation_queries.waiting_queue(session)
    item = next(q for q in queue if q.id == lonely)
    assert queue_frame(1, None, alert=item.alerted)["alert"] is True
    assert boss
    assert national_team


async def test_officer_leaving_hands_chats_back_to_the_head_of_the_queue_after_grace(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    leaving, staying = await officer(crt, "leaving"), await officer(crt, "staying")
    await make_team("Paris", departements="75", members=[leaving, staying])
    await on_duty(crt, leaving)
    chat = await start(crt, "75011")
    await actions.tick(crt)
    assert (await conversation(crt, chat)).assigned_staff_id == leaving.id
    await actions.console_disconnected(crt, staff_id=leaving.id)
    gone = clock.now
    # A page reload within the grace period does no harm.
    assert (await actions.tick(crt, at(gone, 29))).requeued == []
    gone = clock.now = at(gone, 29)
    await actions.console_connected(crt, staff_id=leaving.id)
    await actions.console_disconnected(crt, staff_id=leaving.id)
    later = await start(crt, "75012")  # arrives while the officer is away
    assert (await actions.tick(crt, at(gone, 29))).requeued == []
    assert (await conversation(crt, later)).assigned_staff_id is None  # officer not connected
    report = await actions.tick(crt, at(gone, 30))
    assert report.requeued == [chat]
    assert (await system_messages(crt, chat))[-1] == "requeued"
    async with crt.reading() as session:
        queue = await conversation_queries.waiting_queue(session)
    assert [q.id for q in queue][:2] == [chat, later]  # back at the head
    await on_duty(crt, staying)
    await actions.tick(crt, at(gone, 31))
    assert (await conversation(crt, chat)).assigned_staff_id == staying.id


async def test_consoles_of_a_dead_node_expire_and_their_chats_return(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    stranded, rescuer = await officer(crt, "stranded"), await officer(crt, "rescuer")
    await make_team("Paris", departements="75", members=[stranded, rescuer])
    node_a = dataclasses.replace(crt, node_id="node-a")  # the node that will die
    await on_duty(node_a, stranded)
    chat = await start(crt, "75011")
    await actions.tick(crt)
    assert (await conversation(crt, chat)).assigned_staff_id == stranded.id
    last_beat = clock.now
    await actions.presence_heartbeat(node_a, now=last_beat)
    # Node A dies: its socket never says goodbye, its heartbeats stop. While it is only late,
    # nothing moves.
    timeout = actions.presence_timeout(crt).total_seconds()
    assert (await actions.tick(crt, at(last_beat, timeout - 1))).requeued == []
    # Past the timeout its consoles are taken off the count; the grace period runs from the
    # last heartbeat, then the conversation goes back to the head of the queue.
    grace = crt.settings.routing_grace_s
    report = await actions.tick(crt, at(last_beat, max(timeout, grace) + 1))
    assert report.requeued == [chat]
    await on_duty(crt, rescuer)
    await actions.tick(crt, at(last_beat, max(timeout, grace) + 2))
    assert (await conversation(crt, chat)).assigned_staff_id == rescuer.id


async def test_a_live_node_keeps_its_consoles(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    present = await officer(crt, "present")
    await make_team("Paris", departements="75", members=[present])
    await on_duty(crt, present)
    chat = await start(crt, "75011")
    await actions.tick(crt)
    start_at = clock.now
    for minute in range(1, 6):
        now = at(start_at, 60 * minute)
        await actions.presence_heartbeat(crt, now=now)
        assert (await actions.tick(crt, now)).requeued == []
    assert (await conversation(crt, chat)).assigned_staff_id == present.id
    # A normal close on this node still starts the grace period.
    await actions.console_disconnected(crt, staff_id=present.id)
    closed = clock.now
    assert (await actions.tick(crt, at(closed, crt.settings.routing_grace_s + 1))).requeued == [
        chat
    ]


async def test_end_of_shift_returns_chats_after_grace_and_stops_new_ones(
    crt: Runtime, clock: Clock, make_team: MakeTeam
) -> None:
    paris = await officer(crt, "paris")
    await make_team("Paris", departements="75", members=[paris])
    clock.now = clock.now.replace(hour=12, minute=0, second=0, microsecond=0)
    day = clock.now.weekday()
    await actions.set_shifts(
        crt,
        actor=identity(await officer(crt, "chief", "supervisor")),
        staff_id=paris.id,
        slots=[actions.Slot(day, 8 * 60, 13 * 60)],
    )
    await on_duty(crt, paris)
    chat = await start(crt, "75011")
    await actions.tick(crt)
    assert (await conversation(crt, chat)).assigned_staff_id == paris.id
    end = clock.now.replace(hour=13, minute=0, second=0)
    new = await start(crt, "75012")
    assert (await actions.tick(crt, at(end, 29))).requeued == []
    assert (await conversation(crt, new)).status == Status.WAITING  # off shift
    assert (await actions.tick(crt, at(end, 30))).requeued == [chat]


async def test_pick_mode_team_is_not_assigned_but_officers_take_the_next(
    crt: Runtime, make_team: MakeTeam
) -> None:
    picker = await officer(crt, "picker")
    await make_team("Paris pick", departements="75", mode="pick", members=[picker])
    await on_duty(crt, picker, capacity=1)
    first = await start(crt, "75011")
    second = await start(crt, "75012")
    await actions.tick(crt)
    assert (await conversation(crt, first)).status == Status.WAITING
    taken = await actions.claim_next(crt, staff=identity(picker))
    assert taken is not None
    assert taken.conversation_id == first
    with pytest.raises(AtCapacity):
        await actions.claim_next(crt, staff=identity(picker))
    with pytest.raises(AtCapacity):
        await conversation_actions.take_conversation(
            crt, staff=identity(picker), conversation_id=second
        )
    assert (await conversation(crt, second)).status == Status.WAITING


async def test_transfer_to_a_colleague_and_to_the_psychologists_keeps_the_history(
    crt: Runtime, make_team: MakeTeam
) -> None:
    first, second = await officer(crt, "first"), await officer(crt, "second")
    psy = await officer(crt, "psy", "psychologist")
    await make_team("Paris", departements="75", members=[first])
    await make_team("Psychologues", kind="psychologists", members=[psy])
    await on_duty(crt, first)
    chat = await start(crt, "75011")
    await actions.tick(crt)
    await actions.set_capacity(
        crt, actor=identity(await officer(crt, "adm", "admin")), staff_id=second.id, capacity=1
    )
    await actions.transfer_conversation(
        crt,
        staff=identity(first),
        conversation_id=chat,
        to_staff_id=second.id,
        note="Menaces répétées, enfants au domicile",
    )
    assert (await conversation(crt, chat)).assigned_staff_id == second.id
    other = await start(crt, "75012")
    await on_duty(crt, first)
    await actions.tick(crt)
    with pytest.raises(TargetUnavailable):  # the colleague is full (capacity 1)
        await actions.transfer_conversation(
            crt, staff=identity(first), conversation_id=other, to_staff_id=second.id
        )
    await actions.transfer_conversation(
        crt,
        staff=identity(second),
        conversation_id=chat,
        to_psychologists=True,
        note="Demande un soutien psychologique",
    )
    moved = await conversation(crt, chat)
    assert moved.status == Status.WAITING
    assert moved.requeued_at is not None
    await actions.tick(crt)  # the psychologist is not available yet
    assert (await conversation(crt, chat)).status == Status.WAITING
    await on_duty(crt, psy)
    await actions.tick(crt)
    assert (await conversation(crt, chat)).assigned_staff_id == psy.id
    assert (await system_messages(crt, chat)) == [
        "assigned",
        "transferred_officer",
        "transferred_to_psychologists",
        "assigned_psychologist",
    ]
    async with crt.reading() as session:
        history = await queries.transfers_of(session, crt.keyring, chat)
        rows = list(
            await session.scalars(
                select(ConversationTransfer).where(ConversationTransfer.conversation_id == chat)
            )
        )
    assert [t.note for t in history] == [
        "Menaces répétées, enfants au domicile",
        "Demande un soutien psychologique",
    ]
    assert [r.from_staff_id for r in rows] == [first.id, second.id]


async def test_team_import_is_all_or_nothing_with_errors_by_line(crt: Runtime) -> None:
    bad = (
        "name,kind,channels,departements\n"
        "Police Paris,police,domestic sexual,75 92\n"
        "Nowhere,police,domestic,\n"
        "Strange,army,domestic,23\n"
        "Brittany,gendarmerie,domestic;sexual,29;99\n"
    )
    report = await actions.import_teams(crt, bad)
    assert [line for line, _ in report.errors] == [3, 4, 5]
    async with crt.reading() as session:
        assert await queries.load_teams(session) == {}
    good = (
        "name,kind,channels,departements,mode\n"
        "Police Paris,police,domestic sexual,75 92,auto\n"
        "Gendarmerie Lozère,gendarmerie,domestic sexual discrimination,48,pick\n"
        "National,national,domestic sexual discrimination,,\n"
    )
    report = await actions.import_teams(crt, good)
    assert report.errors == []
    assert report.teams == 3
    async with crt.reading() as session:
        teams = {t.name: t for t in (await queries.load_teams(session)).values()}
    assert teams["Police Paris"].departements == {"75", "92"}
    assert teams["Gendarmerie Lozère"].mode == "pick"


async def test_only_one_node_holds_a_job_lease(rt: Runtime) -> None:
    now = utcnow()
    results = await asyncio.gather(
        *(
            actions.acquire_lease(rt, name="test-job", holder=f"node-{i}", seconds=10, now=now)
            for i in range(5)
        )
    )
    assert results.count(True) == 1
    winner = f"node-{results.index(True)}"
    assert await actions.acquire_lease(rt, name="test-job", holder=winner, seconds=10, now=now)
    assert not await actions.acquire_lease(
        rt, name="test-job", holder="late", seconds=10, now=at(now, 9)
    )
    assert await actions.acquire_lease(
        rt, name="test-job", holder="late", seconds=10, now=at(now, 11)
    )
    await actions.release_lease(rt, name="test-job", holder="late")


def test_shift_helpers() -> None:
    monday_noon = datetime(2026, 11, 30, 12, 0)
    slots = [ShiftSlot(weekday=0, start_minute=8 * 60, end_minute=13 * 60)]
    assert queries.on_shift(slots, monday_noon)
    assert queries.on_shift([], monday_noon)
    assert not queries.on_shift(slots, monday_noon.replace(hour=14))
    assert queries.last_shift_end(slots, monday_noon.replace(hour=14)) == monday_noon.replace(
        hour=13
    )
