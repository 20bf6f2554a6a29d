"""Every write of routing: teams and their coverage, officers' capacity, availability, presence
and shifts, and the conversation moves routing makes — assignment by the engine, claim of the
next conversation, return to the queue, transfer, overflow alerts.

Each action validates, changes the database in one transaction, records staff actions in the
audit log and publishes only after commit. Claims are atomic: the conversation row is taken
with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (through the single writer on SQLite),
then the officer's state row is locked and their active chats counted under that lock.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from confide.audit.actions import AuditAction, record
from confide.conversations import queries as conversation_queries
from confide.conversations.actions import (
    QUEUE_TOPIC,
    append_system,
    conversation_topic,
    staff_topic,
)
from confide.conversations.errors import ConversationClosed, ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import Status, SystemEvent
from confide.errors import PermissionDenied
from confide.i18n import N_
from confide.routing import postcodes, queries
from confide.routing.capacity import locked_state, reserve_slot
from confide.routing.errors import (
    AtCapacity,
    AvailabilityInvalid,
    CapacityInvalid,
    ScheduleInvalid,
    StaffNotFound,
    TargetUnavailable,
    TeamInvalid,
    TeamNotFound,
    TransferInvalid,
)
from confide.routing.models import (
    ConsolePresence,
    ConversationTransfer,
    JobLease,
    OfficerState,
    ShiftSlot,
    Team,
    TeamDepartement,
    TeamMember,
)
from confide.routing.schemas import Availability, TeamKind, TeamMode
from confide.runtime import Runtime, Tx
from confide.security.keyring import encrypt_text
from confide.security.permissions import Permission, has_permission
from confide.staff.models import StaffMember
from confide.staff.schemas import StaffIdentity

#: Topic of supervisors' consoles: overflow alerts.
SUPERVISORS_TOPIC = "supervisors"
NOTE_MAX_CHARS = 1000
MAX_CAPACITY = 20


# --- assignment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    staff_id: int


class _Retry:
    """The chosen officer filled up meanwhile: start again from a fresh snapshot."""


_RETRY = _Retry()


async def assign_waiting(
    rt: Runtime, *, now: datetime | None = None, limit: int | None = None
) -> list[Assignment]:
    """One pass of the assignment engine: hand out waiting conversations until nobody fits.

    Priority conversations first, then those put back at the head, then the longest waiting;
    each to the available, connected, on-shift officer of an automatic team covering it, with
    the chat and a free slot, who has the fewest active chats. Run by the background job and
    on events; safe to run on several nodes at once. Audited as `conversation.assigned`.
    """
    made: list[Assignment] = []
    retries = 0
    while limit is None or len(made) < limit:
        result = await _assign_next(rt, now or rt.clock(), officer_id=None)
        if result is None:
            break
        if isinstance(result, _Retry):
            retries += 1
            if retries > 50:
                break
            continue
        made.append(result)
    return made


async def claim_next(rt: Runtime, *, staff: StaffIdentity) -> Assignment | None:
    """The calling officer takes the first waiting conversation they may answer ("take next").

    Same order and atomicity as the engine, in "pick" teams as well as automatic ones, whatever
    their availability; refused with `AtCapacity` when full. Audited as `conversation.assigned`.
    """
    if not staff.can(Permission.CONVERSATION_TAKE):
        raise PermissionDenied()
    for _ in range(50):
        result = await _assign_next(rt, rt.clock(), officer_id=staff.id)
        if not isinstance(result, _Retry):
            return result
    return None


async def _assign_next(
    rt: Runtime, now: datetime, *, officer_id: int | None
) -> Assignment | _Retry | None:
    settings = rt.settings
    async with rt.transaction() as tx:
        snap = await queries.snapshot(tx.session, now, settings.routing_default_capacity)
        if officer_id is not None:
            officer = snap.officers.get(officer_id)
            if officer is None:
                return None
            if officer.active >= officer.capacity:
                raise AtCapacity()
            # Taking by hand: the officer is here, whatever the status they chose.
            officer.availability, officer.connections, officer.on_shift = (
                Availability.AVAILABLE,
                1,
                True,
            )
            snap.officers = {officer_id: officer}
        elif not any(o.can_receive for o in snap.officers.values()):
            return None
        for row in await queries.waiting_rows(tx.session):
            chosen = snap.best_officer(
                row, now, settings.routing_overflow_s, auto_only=officer_id is None
            )
            if chosen is None:
                continue
            conversation = await tx.session.scalar(
                select(Conversation)
                .where(Conversation.id == row.id, Conversation.status == Status.WAITING)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if conversation is None:
                continue  # being claimed by someone else, or gone: look further
            state = await locked_state(tx, chosen.staff_id, settings.routing_default_capacity)
            active = await queries.active_count(tx.session, chosen.staff_id)
            if active >= state.capacity or (
                officer_id is None and state.availability != Availability.AVAILABLE
            ):
                if officer_id is not None:
                    raise AtCapacity()
                return _RETRY
            await _claim(tx, conversation, chosen.staff_id, chosen.role, chosen.display_name, now)
            return Assignment(conversation.id, chosen.staff_id)
    return None


async def _claim(
    tx: Tx,
    conversation: Conversation,
    staff_id: int,
    role: str,
    display_name: str,
    now: datetime,
) -> None:
    conversation.status = Status.ACTIVE
    conversation.assigned_staff_id = staff_id
    conversation.assigned_at = now
    conversation.alerted_at = None
    await record(
        tx,
        AuditAction.CONVERSATION_ASSIGNED,
        actor_staff_id=None,
        actor_label="routing",
        conversation_id=conversation.id,
        detail={"staff_id": staff_id},
    )
    await append_system(tx, conversation, SystemEvent.joined(role))
    tx.publish_on_commit(
        conversation_topic(conversation.id),
        {"type": "assigned", "role": role, "display_name": display_name},
    )
    tx.publish_on_commit(
        staff_topic(staff_id), {"type": "assigned_to_you", "conversation_id": conversation.id}
    )
    tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})


# --- back to the queue, overflow alerts ---------------------------------------------------


@dataclass(frozen=True)
class TickReport:
    requeued: list[str]
    alerted: list[str]
    assigned: list[Assignment]


async def tick(rt: Runtime, now: datetime | None = None) -> TickReport:
    """Everything time-driven, for `now` (tests call it with a controlled clock): return the
    conversations of departed officers to the queue, alert supervisors of conversations
    nobody answered, then run an assignment pass."""
    now = now or rt.clock()
    # The node running the tick is alive: its consoles are vouched for before others expire.
    await presence_heartbeat(rt, now=now)
    await expire_presence(rt, now=now)
    requeued = await requeue_departed(rt, now=now)
    alerted = await alert_unanswered(rt, now=now)
    assigned = await assign_waiting(rt, now=now)
    return TickReport(requeued, alerted, assigned)


async def requeue_departed(rt: Runtime, *, now: datetime) -> list[str]:
    """Conversations of officers gone for longer than the grace period return to the HEAD of
    the queue; the visitor is told. Gone: every console closed, logged out or "offline", or
    their shift over. Audited as `conversation.requeued` (by routing)."""
    grace = timedelta(seconds=rt.settings.routing_grace_s)
    async with rt.reading() as session:
        holders = list(
            await session.scalars(
                select(Conversation.assigned_staff_id)
                .where(Conversation.status == Status.ACTIVE)
                .distinct()
            )
        )
        departed: dict[int, str] = {}
        for staff_id in holders:
            if staff_id is None:
                continue
            state = await session.get(OfficerState, staff_id)
            reason = _gone(state, await queries.shift_slots(session, staff_id), now, grace)
            if reason is not None:
                departed[staff_id] = reason
    requeued: list[str] = []
    for staff_id, reason in departed.items():
        requeued += await _requeue_staff(rt, staff_id, reason, now)
    return requeued


def _gone(
    state: OfficerState | None, slots: list[ShiftSlot], now: datetime, grace: timedelta
) -> str | None:
    limit = now - grace
    if state is not None:
        if state.connections <= 0 and state.disconnected_at and state.disconnected_at <= limit:
            return "disconnected"
        if (
            state.availability == Availability.OFFLINE
            and state.availability_at
            and state.availability_at <= limit
        ):
            return "offline"
    shift_end = queries.last_shift_end(slots, now)
    if shift_end is not None and shift_end <= limit:
        return "shift_ended"
    return None


async def _requeue_staff(rt: Runtime, staff_id: int, reason: str, now: datetime) -> list[str]:
    async with rt.transaction() as tx:
        conversations = list(
            await tx.session.scalars(
                select(Conversation)
                .where(
                    Conversation.assigned_staff_id == staff_id,
                    Conversation.status == Status.ACTIVE,
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        for conversation in conversations:
            await _back_to_queue(tx, conversation, now)
            await append_system(tx, conversation, SystemEvent.REQUEUED)
            await record(
                tx,
                AuditAction.CONVERSATION_REQUEUED,
                actor_staff_id=None,
                actor_label="routing",
                conversation_id=conversation.id,
                detail={"from_staff_id": staff_id, "reason": reason},
            )
            tx.publish_on_commit(
                staff_topic(staff_id),
                {"type": "released", "conversation_id": conversation.id, "reason": reason},
            )
    return [c.id for c in conversations]


async def _back_to_queue(tx: Tx, conversation: Conversation, now: datetime) -> None:
    conversation.status = Status.WAITING
    conversation.assigned_staff_id = None
    conversation.assigned_at = None
    conversation.requeued_at = now
    conversation.waiting_since = now
    conversation.alerted_at = None
    tx.publish_on_commit(conversation_topic(conversation.id), {"type": "requeued"})
    tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})


async def alert_unanswered(rt: Runtime, *, now: datetime) -> list[str]:
    """Conversations still waiting after both delays: supervisors get an alert and the
    visitor's queue frame carries `alert` (the page shows 17 / 114 / 3919)."""
    limit = now - timedelta(seconds=rt.settings.routing_overflow_s + rt.settings.routing_alert_s)
    async with rt.transaction() as tx:
        rows = list(
            await tx.session.scalars(
                select(Conversation)
                .where(Conversation.status == Status.WAITING, Conversation.alerted_at.is_(None))
                .with_for_update(skip_locked=True)
            )
        )
        alerted = []
        for conversation in rows:
            since = conversation.waiting_since or conversation.created_at
            if since > limit:
                continue
            conversation.alerted_at = now
            alerted.append(conversation.id)
            tx.publish_on_commit(
                SUPERVISORS_TOPIC,
                {
                    "type": "alert",
                    "conversation_id": conversation.id,
                    "channel": conversation.channel,
                    "departement": conversation.departement,
                    "priority": conversation.priority,
                    "waiting_s": int((now - since).total_seconds()),
                },
            )
        if alerted:
            tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return alerted


# --- transfers ----------------------------------------------------------------------------


async def transfer_conversation(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    conversation_id: str,
    to_staff_id: int | None = None,
    to_team_id: int | None = None,
    to_psychologists: bool = False,
    note: str = "",
) -> Conversation:
    """Hand an active conversation to one colleague (at once, within their capacity), or to a
    team or the psychologists (back to the head of the queue, for that team only).

    The staff member in charge, with `staff:conversation:transfer`. The history and the note
    are kept for the next person; the visitor is told the role only. Audited as
    `conversation.transferred` (never with the note).
    """
    if not staff.can(Permission.CONVERSATION_TRANSFER):
        raise PermissionDenied()
    if sum((to_staff_id is not None, to_team_id is not None, to_psychologists)) != 1:
        raise TransferInvalid()
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise TransferInvalid(N_("The note is too long (1,000 characters at most)."))
    async with rt.transaction() as tx:
        conversation = await tx.session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        if conversation is None:
            raise ConversationNotFound()
        if conversation.assigned_staff_id != staff.id:
            raise PermissionDenied()
        if conversation.status != Status.ACTIVE:
            raise ConversationClosed()
        await move_conversation(
            tx,
            conversation,
            default_capacity=rt.settings.routing_default_capacity,
            actor_id=staff.id,
            to_staff_id=to_staff_id,
            to_team_id=to_team_id,
            to_psychologists=to_psychologists,
            note=note,
        )
    return conversation


async def move_conversation(
    tx: Tx,
    conversation: Conversation,
    *,
    default_capacity: int,
    actor_id: int,
    to_staff_id: int | None = None,
    to_team_id: int | None = None,
    to_psychologists: bool = False,
    note: str = "",
    action: AuditAction = AuditAction.CONVERSATION_TRANSFERRED,
    reason: str = "transferred",
) -> None:
    """Move an active conversation (its row locked by the caller, who checked who may) from
    whoever holds it to a colleague or a team: shared by transfers and supervisors'
    reassignments (`handoff.actions.reassign_conversation`). The holder's consoles get
    `released` with `reason`; audited as `action` by `actor_id`."""
    from_staff_id = conversation.assigned_staff_id
    team: Team | None = None
    if to_psychologists:
        team = await tx.session.scalar(
            select(Team).where(Team.kind == TeamKind.PSYCHOLOGISTS).order_by(Team.id).limit(1)
        )
        if team is None:
            raise TransferInvalid(N_("No psychologists' team is set up."))
    elif to_team_id is not None:
        team = await tx.session.get(Team, to_team_id)
        if team is None:
            raise TeamNotFound()
    target: StaffMember | None = None
    if to_staff_id is not None:
        if to_staff_id == from_staff_id:
            raise TransferInvalid()
        target = await tx.session.get(StaffMember, to_staff_id)
        if (
            target is None
            or not target.is_active
            or not has_permission(target.role, Permission.CONVERSATION_CHAT)
        ):
            raise StaffNotFound()
        try:
            await reserve_slot(tx, target.id, default_capacity)
        except AtCapacity:
            raise TargetUnavailable() from None
    tx.session.add(
        ConversationTransfer(
            conversation_id=conversation.id,
            from_staff_id=from_staff_id,
            to_staff_id=target.id if target else None,
            to_team_id=team.id if team else None,
            note_ciphertext=(
                encrypt_text(conversation_queries.data_key(tx.keyring, conversation), note)
                if note
                else None
            ),
            at=tx.now,
        )
    )
    detail: dict[str, object] = {
        "to_staff_id": target.id if target else None,
        "to_team_id": team.id if team else None,
        "has_note": bool(note),
    }
    if actor_id != from_staff_id:
        detail["from_staff_id"] = from_staff_id
    await record(
        tx, action, actor_staff_id=actor_id, conversation_id=conversation.id, detail=detail
    )
    if from_staff_id is not None:
        tx.publish_on_commit(
            staff_topic(from_staff_id),
            {"type": "released", "conversation_id": conversation.id, "reason": reason},
        )
    if target is not None:
        conversation.assigned_staff_id = target.id
        conversation.assigned_at = tx.now
        await append_system(
            tx,
            conversation,
            SystemEvent.TRANSFERRED_PSYCHOLOGIST
            if target.role == "psychologist"
            else SystemEvent.TRANSFERRED_OFFICER,
        )
        tx.publish_on_commit(
            conversation_topic(conversation.id), {"type": "assigned", "role": target.role}
        )
        tx.publish_on_commit(
            staff_topic(target.id),
            {"type": "assigned_to_you", "conversation_id": conversation.id},
        )
    else:
        assert team is not None
        conversation.team_id = team.id
        await _back_to_queue(tx, conversation, tx.now)
        await append_system(
            tx,
            conversation,
            SystemEvent.TRANSFERRED_TO_PSYCHOLOGISTS
            if team.kind == TeamKind.PSYCHOLOGISTS
            else SystemEvent.TRANSFERRED_TEAM,
        )


# --- officers: availability, presence, capacity, shifts -----------------------------------


async def set_availability(rt: Runtime, *, staff: StaffIdentity, availability: str) -> str:
    """The officer's own status from the console: available, busy, away or offline.

    Only "available" receives new conversations; "offline" hands current ones back to the
    queue after the grace period. Audited as `staff.availability`.
    """
    if not staff.can(Permission.AVAILABILITY_SET):
        raise PermissionDenied()
    try:
        value = Availability(availability)
    except ValueError:
        raise AvailabilityInvalid() from None
    async with rt.transaction() as tx:
        state = await locked_state(tx, staff.id, rt.settings.routing_default_capacity)
        state.availability = value
        state.availability_at = tx.now
        await record(
            tx, AuditAction.STAFF_AVAILABILITY, actor_staff_id=staff.id, detail={"to": value}
        )
        tx.publish_on_commit(staff_topic(staff.id), {"type": "availability", "value": value})
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return value


async def console_connected(rt: Runtime, *, staff_id: int) -> OfficerState:
    """A console socket opened on this node: the officer is present again, grace period over."""
    async with rt.transaction() as tx:
        state = await locked_state(tx, staff_id, rt.settings.routing_default_capacity)
        state.connections = max(0, state.connections) + 1
        state.disconnected_at = None
        presence = await tx.session.get(ConsolePresence, (rt.node_id, staff_id))
        if presence is None:
            presence = ConsolePresence(node_id=rt.node_id, staff_id=staff_id, connections=0)
            tx.session.add(presence)
        presence.connections += 1
        presence.seen_at = tx.now
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return state


async def console_disconnected(rt: Runtime, *, staff_id: int) -> None:
    """A console socket closed on this node; when it was the last one the grace period starts."""
    async with rt.transaction() as tx:
        state = await locked_state(tx, staff_id, rt.settings.routing_default_capacity)
        presence = await tx.session.get(ConsolePresence, (rt.node_id, staff_id))
        if presence is None:
            return  # already expired (this node was taken for dead): nothing left to count
        presence.connections -= 1
        if presence.connections <= 0:
            await tx.session.delete(presence)
        state.connections = max(0, state.connections - 1)
        if state.connections == 0:
            state.disconnected_at = tx.now


def presence_timeout(rt: Runtime) -> timedelta:
    """How long a node may stay silent before its consoles count as closed."""
    return timedelta(seconds=3 * rt.settings.routing_lease_s)


async def presence_heartbeat(rt: Runtime, *, now: datetime) -> None:
    """This node still holds its consoles (every node calls it, a few times per timeout)."""
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(ConsolePresence).where(ConsolePresence.node_id == rt.node_id).values(seen_at=now)
        )


async def expire_presence(rt: Runtime, *, now: datetime) -> list[int]:
    """Take the consoles of silent (dead) nodes off the count; returns the staff concerned.

    Their grace period starts from the last heartbeat, so after a node crash an officer whose
    console did not reconnect elsewhere has their conversations put back in the queue.
    """
    limit = now - presence_timeout(rt)
    touched: list[int] = []
    async with rt.transaction() as tx:
        stale = list(
            await tx.session.scalars(select(ConsolePresence).where(ConsolePresence.seen_at < limit))
        )
        for presence in stale:
            state = await locked_state(tx, presence.staff_id, rt.settings.routing_default_capacity)
            state.connections = max(0, state.connections - presence.connections)
            if state.connections == 0:
                state.disconnected_at = presence.seen_at
            touched.append(presence.staff_id)
            await tx.session.delete(presence)
    return touched


async def logged_out(rt: Runtime, *, staff_id: int) -> None:
    """After logout the officer is offline: no new chats, current ones back after the grace."""
    async with rt.transaction() as tx:
        state = await tx.session.get(OfficerState, staff_id)
        if state is not None:
            state.availability = Availability.OFFLINE
            state.availability_at = tx.now


async def set_capacity(rt: Runtime, *, actor: StaffIdentity, staff_id: int, capacity: int) -> None:
    """Maximum simultaneous chats of a staff member. Admins (`admin:teams:manage`).
    Audited as `staff.routing_changed`."""
    if not actor.can(Permission.TEAMS_MANAGE):
        raise PermissionDenied()
    if not 1 <= capacity <= MAX_CAPACITY:
        raise CapacityInvalid()
    async with rt.transaction() as tx:
        if await tx.session.get(StaffMember, staff_id) is None:
            raise StaffNotFound()
        state = await locked_state(tx, staff_id, rt.settings.routing_default_capacity)
        state.capacity = capacity
        await record(
            tx,
            AuditAction.STAFF_ROUTING_CHANGED,
            actor_staff_id=actor.id,
            detail={"staff_id": staff_id, "capacity": capacity},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})


@dataclass(frozen=True)
class Slot:
    weekday: int
    start_minute: int
    end_minute: int


def parse_slot(weekday: str, start: str, end: str) -> Slot:
    """A slot from form fields: weekday 0-6, times HH:MM; raises ScheduleInvalid."""

    def minutes(text: str) -> int:
        try:
            hours, mins = text.strip().split(":")
            value = int(hours) * 60 + int(mins)
        except ValueError:
            raise ScheduleInvalid() from None
        if not 0 <= int(mins) < 60 or not 0 <= value <= 24 * 60:
            raise ScheduleInvalid()
        return value

    try:
        day = int(weekday)
    except ValueError:
        raise ScheduleInvalid() from None
    slot = Slot(day, minutes(start), minutes(end))
    if not 0 <= day <= 6 or slot.start_minute >= slot.end_minute:
        raise ScheduleInvalid()
    return slot


async def set_shifts(
    rt: Runtime, *, actor: StaffIdentity, staff_id: int, slots: list[Slot]
) -> None:
    """Replace a staff member's weekly schedule (UTC). Supervisors and admins
    (`supervisor:schedule:edit`). Audited as `staff.routing_changed`."""
    if not actor.can(Permission.SCHEDULE_EDIT):
        raise PermissionDenied()
    for slot in slots:
        if not 0 <= slot.weekday <= 6 or not 0 <= slot.start_minute < slot.end_minute <= 1440:
            raise ScheduleInvalid()
    async with rt.transaction() as tx:
        if await tx.session.get(StaffMember, staff_id) is None:
            raise StaffNotFound()
        await tx.session.execute(delete(ShiftSlot).where(ShiftSlot.staff_id == staff_id))
        for slot in slots:
            tx.session.add(
                ShiftSlot(
                    staff_id=staff_id,
                    weekday=slot.weekday,
                    start_minute=slot.start_minute,
                    end_minute=slot.end_minute,
                )
            )
        await record(
            tx,
            AuditAction.STAFF_ROUTING_CHANGED,
            actor_staff_id=actor.id,
            detail={"staff_id": staff_id, "shift_slots": len(slots)},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})


# --- teams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSpec:
    name: str
    kind: str
    channels: tuple[str, ...]
    departements: tuple[str, ...]
    mode: str = TeamMode.AUTO


def check_team(
    *, name: str, kind: str, channels: str, departements: str, mode: str = "auto"
) -> TeamSpec:
    """Validate and normalise a team; raises TeamInvalid with the first mistake."""
    from confide.conversations.schemas import Channel

    name = " ".join(name.split())
    if not 2 <= len(name) <= 80:
        raise TeamInvalid(N_("The team name has 2 to 80 characters."))
    try:
        kind_value = TeamKind(kind.strip().lower())
    except ValueError:
        raise TeamInvalid(
            N_("The kind is one of: police, gendarmerie, national, psychologists.")
        ) from None
    try:
        mode_value = TeamMode((mode or "auto").strip().lower())
    except ValueError:
        raise TeamInvalid(N_("The mode is auto or pick.")) from None
    chosen = tuple(dict.fromkeys(c.strip().lower() for c in _split(channels)))
    if not chosen or any(c not in set(Channel) for c in chosen):
        raise TeamInvalid(N_("The chats are some of: domestic, sexual, discrimination."))
    known = postcodes.departement_codes()
    codes = tuple(dict.fromkeys(d.strip().upper() for d in _split(departements)))
    unknown = [d for d in codes if d not in known]
    if unknown:
        raise TeamInvalid(N_("A département code is unknown: use codes such as 75, 2A, 23 or 971."))
    if kind_value in (TeamKind.POLICE, TeamKind.GENDARMERIE) and not codes:
        raise TeamInvalid(N_("A police or gendarmerie team covers at least one département."))
    return TeamSpec(name, kind_value, chosen, codes, mode_value)


def _split(text: str) -> list[str]:
    return [part for part in text.replace(";", " ").replace(",", " ").split() if part]


async def save_team(
    rt: Runtime, *, actor: StaffIdentity | None, spec: TeamSpec, team_id: int | None = None
) -> Team:
    """Create a team or replace one's settings and coverage. Admins (`admin:teams:manage`) and
    the command line (actor None). Audited as `team.changed`."""
    if actor is not None and not actor.can(Permission.TEAMS_MANAGE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        team = await _save_team(tx, spec, team_id)
        await record(
            tx,
            AuditAction.TEAM_CHANGED,
            actor_staff_id=actor.id if actor else None,
            actor_label="" if actor else "cli",
            detail={"team_id": team.id, "departements": len(spec.departements)},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return team


async def _save_team(tx: Tx, spec: TeamSpec, team_id: int | None) -> Team:
    same_name = await tx.session.scalar(select(Team).where(Team.name == spec.name))
    if team_id is None:
        team = same_name
        if team is None:
            team = Team(name=spec.name, created_at=tx.now)
            tx.session.add(team)
    else:
        team = await tx.session.get(Team, team_id)
        if team is None:
            raise TeamNotFound()
        if same_name is not None and same_name.id != team.id:
            raise TeamInvalid(N_("Another team has this name."))
    team.name, team.kind, team.mode = spec.name, spec.kind, spec.mode
    team.channels = " ".join(spec.channels)
    await tx.session.flush()
    await tx.session.execute(delete(TeamDepartement).where(TeamDepartement.team_id == team.id))
    for code in spec.departements:
        tx.session.add(TeamDepartement(team_id=team.id, departement=code))
    await tx.session.flush()
    return team


async def delete_team(rt: Runtime, *, actor: StaffIdentity, team_id: int) -> None:
    """Remove a team (members stay as accounts). Admins. Audited as `team.changed`."""
    if not actor.can(Permission.TEAMS_MANAGE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        team = await tx.session.get(Team, team_id)
        if team is None:
            raise TeamNotFound()
        await tx.session.delete(team)
        await record(
            tx,
            AuditAction.TEAM_CHANGED,
            actor_staff_id=actor.id,
            detail={"team_id": team_id, "deleted": True},
        )


async def set_membership(
    rt: Runtime, *, actor: StaffIdentity | None, team_id: int, staff_id: int, member: bool
) -> None:
    """Add a staff member to a team or remove them. Admins (`admin:teams:manage`) and the
    command line. Audited as `team.changed`."""
    if actor is not None and not actor.can(Permission.TEAMS_MANAGE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        if await tx.session.get(Team, team_id) is None:
            raise TeamNotFound()
        staff = await tx.session.get(StaffMember, staff_id)
        if staff is None or not has_permission(staff.role, Permission.CONVERSATION_CHAT):
            raise StaffNotFound()
        existing = await tx.session.get(TeamMember, (team_id, staff_id))
        if member == (existing is not None):
            return  # nothing changes, nothing to record
        if existing is None:
            tx.session.add(TeamMember(team_id=team_id, staff_id=staff_id))
        else:
            await tx.session.delete(existing)
        await record(
            tx,
            AuditAction.TEAM_CHANGED,
            actor_staff_id=actor.id if actor else None,
            actor_label="" if actor else "cli",
            detail={"team_id": team_id, "staff_id": staff_id, "member": member},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})


@dataclass(frozen=True)
class ImportReport:
    teams: int
    errors: list[tuple[int, str]]


IMPORT_COLUMNS = ("name", "kind", "channels", "departements")


async def import_teams(rt: Runtime, text: str) -> ImportReport:
    """Load a team/département mapping from CSV (columns name, kind, channels, departements
    and optionally mode; lists separated by spaces or semicolons). Every row is checked and
    errors are reported by line; nothing is written unless every row is valid. Teams are
    matched by name and their settings and coverage replaced. Audited as `team.imported`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        return ImportReport(0, [(1, f"missing column(s): {', '.join(missing)}")])
    reader.fieldnames = header
    specs: list[TeamSpec] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            spec = check_team(
                name=row.get("name") or "",
                kind=row.get("kind") or "",
                channels=row.get("channels") or "",
                departements=row.get("departements") or "",
                mode=row.get("mode") or "auto",
            )
        except TeamInvalid as error:
            errors.append((line, error.message))
            continue
        if spec.name in seen:
            errors.append((line, f"team {spec.name!r} already given on line {seen[spec.name]}"))
            continue
        seen[spec.name] = line
        specs.append(spec)
    if errors:
        return ImportReport(0, errors)
    if not specs:
        return ImportReport(0, [(1, "no team in the file")])
    async with rt.transaction() as tx:
        for spec in specs:
            await _save_team(tx, spec, None)
        await record(
            tx,
            AuditAction.TEAMS_IMPORTED,
            actor_staff_id=None,
            actor_label="cli",
            detail={"teams": len(specs)},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return ImportReport(len(specs), [])


# --- job leases ---------------------------------------------------------------------------


async def acquire_lease(
    rt: Runtime, *, name: str, holder: str, seconds: float, now: datetime | None = None
) -> bool:
    """Take or renew the lease of a background job; True when `holder` has it until
    now + seconds. Atomic on both engines (conditional UPDATE, then INSERT … ON CONFLICT)."""
    from sqlalchemy import or_, update
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    async with rt.transaction() as tx:
        now = now or tx.now
        expires = now + timedelta(seconds=seconds)
        result = await tx.session.execute(
            update(JobLease)
            .where(
                JobLease.name == name,
                or_(JobLease.holder == holder, JobLease.expires_at < now),
            )
            .values(holder=holder, expires_at=expires)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return True
        insert = pg_insert if tx.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        inserted = await tx.session.execute(
            insert(JobLease)
            .values(name=name, holder=holder, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        return bool(inserted.rowcount == 1)  # type: ignore[attr-defined]


async def release_lease(rt: Runtime, *, name: str, holder: str) -> None:
    async with rt.transaction() as tx:
        await tx.session.execute(
            delete(JobLease).where(JobLease.name == name, JobLease.holder == holder)
        )
