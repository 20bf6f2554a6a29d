"""Warm hand-offs to a psychologist, observers, and supervision of live conversations.

- An officer asks for a hand-off with a note (only when a psychologist could take it now);
  psychologists see the request, may read the history (audited) and accept: one wins, the
  conversation is theirs, the visitor is told; the officer stays as a silent observer or
  leaves.
- Supervisors see the live conversations of their teams, read them (audited, as observers),
  join them (members write alongside the person in charge), or reassign them.

Each action validates, changes the database in one transaction, records the staff action in
the audit log (never the note) and publishes after commit.
"""

from __future__ import annotations

from sqlalchemy import select, update

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
from confide.handoff import queries
from confide.handoff.errors import (
    HandoffAlreadyPending,
    HandoffInvalid,
    HandoffNotFound,
    HandoffTaken,
    HandoffWithdrawn,
    NoPsychologistAvailable,
    OutOfScope,
)
from confide.handoff.models import ConversationParticipant, Handoff
from confide.handoff.queries import HandoffStatus, ParticipantMode
from confide.i18n import N_
from confide.routing.actions import move_conversation
from confide.routing.capacity import reserve_slot
from confide.routing.errors import TransferInvalid
from confide.routing.models import ConversationTransfer
from confide.runtime import Runtime, Tx
from confide.security.keyring import encrypt_text
from confide.security.permissions import Permission
from confide.staff.models import StaffMember
from confide.staff.schemas import StaffIdentity

#: Topic of the consoles of staff who accept hand-offs: `{"type": "handoffs_changed"}`.
HANDOFFS_TOPIC = "handoffs"
NOTE_MAX_CHARS = 1000


async def _locked(tx: Tx, conversation_id: str) -> Conversation:
    conversation = await tx.session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def _changed(tx: Tx) -> None:
    tx.publish_on_commit(HANDOFFS_TOPIC, {"type": "handoffs_changed"})


# --- hand-offs ----------------------------------------------------------------------------


async def request_handoff(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, note: str, stay: bool
) -> Handoff:
    """The officer in charge asks a psychologist to take over, with a note for them.

    `staff:handoff:request`, the staff member in charge of the active conversation, one
    pending request per conversation. Refused at once, with nothing stored, when no
    psychologist could accept now (console open, "available", under capacity). Audited as
    `handoff.requested`; psychologists' consoles are told.
    """
    if not staff.can(Permission.HANDOFF_REQUEST):
        raise PermissionDenied()
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise HandoffInvalid()
    async with rt.transaction() as tx:
        conversation = await _locked(tx, conversation_id)
        if conversation.assigned_staff_id != staff.id:
            raise PermissionDenied()
        if conversation.status != Status.ACTIVE:
            raise ConversationClosed()
        if await queries.pending_handoff(tx.session, conversation.id) is not None:
            raise HandoffAlreadyPending()
        if not await queries.psychologist_available(
            tx.session, rt.settings.routing_default_capacity
        ):
            raise NoPsychologistAvailable()
        handoff = Handoff(
            conversation_id=conversation.id,
            from_staff_id=staff.id,
            note_ciphertext=(
                encrypt_text(conversation_queries.data_key(tx.keyring, conversation), note)
                if note
                else None
            ),
            officer_stays=bool(stay),
            status=HandoffStatus.PENDING,
            created_at=tx.now,
        )
        tx.session.add(handoff)
        await tx.session.flush()
        await record(
            tx,
            AuditAction.HANDOFF_REQUESTED,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"handoff_id": handoff.id, "officer_stays": bool(stay), "has_note": bool(note)},
        )
        _changed(tx)
    return handoff


async def cancel_handoff(rt: Runtime, *, staff: StaffIdentity, handoff_id: int) -> Handoff:
    """The officer who asked withdraws a pending hand-off. Audited as `handoff.cancelled`;
    psychologists reading its history lose it."""
    if not staff.can(Permission.HANDOFF_REQUEST):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        found = await tx.session.get(Handoff, handoff_id)
        if found is None:
            raise HandoffNotFound()
        await _locked(tx, found.conversation_id)
        handoff = await _locked_handoff(tx, handoff_id)
        if handoff.from_staff_id != staff.id:
            raise PermissionDenied()
        if handoff.status == HandoffStatus.ACCEPTED:
            raise HandoffTaken(N_("A psychologist has already accepted this hand-off."))
        if handoff.status != HandoffStatus.PENDING:
            raise HandoffWithdrawn()
        handoff.status = HandoffStatus.CANCELLED
        handoff.decided_at = tx.now
        await record(
            tx,
            AuditAction.HANDOFF_CANCELLED,
            actor_staff_id=staff.id,
            conversation_id=handoff.conversation_id,
            detail={"handoff_id": handoff.id},
        )
        await _release_readers(tx, handoff.conversation_id, keep=None, reason="handoff_cancelled")
        tx.publish_on_commit(
            staff_topic(staff.id),
            {
                "type": "handoff_cancelled",
                "handoff_id": handoff.id,
                "conversation_id": handoff.conversation_id,
            },
        )
        _changed(tx)
    return handoff


async def _locked_handoff(tx: Tx, handoff_id: int) -> Handoff:
    handoff = await tx.session.scalar(
        select(Handoff)
        .where(Handoff.id == handoff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if handoff is None:
        raise HandoffNotFound()
    return handoff


async def _release_readers(tx: Tx, conversation_id: str, *, keep: int | None, reason: str) -> None:
    """Psychologists who were reading the history of a hand-off that is no longer pending
    stop following the conversation (their consoles drop it)."""
    psychologists = await tx.session.scalars(
        select(StaffMember.id).where(StaffMember.role == "psychologist")
    )
    for staff_id in psychologists:
        if staff_id != keep:
            tx.publish_on_commit(
                staff_topic(staff_id),
                {"type": "released", "conversation_id": conversation_id, "reason": reason},
            )


async def accept_handoff(rt: Runtime, *, staff: StaffIdentity, handoff_id: int) -> Handoff:
    """A psychologist accepts a pending hand-off: atomic, one winner (`HandoffTaken` for the
    others). The conversation becomes theirs (within their capacity), the visitor is told,
    the note joins the conversation's hand-over notes; the officer becomes a silent observer
    or is released, as they chose. Audited as `handoff.accepted`."""
    if not staff.can(Permission.HANDOFF_ACCEPT):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        found = await tx.session.get(Handoff, handoff_id)
        if found is None:
            raise HandoffNotFound()
        # Lock order: the conversation row, then the hand-off, then the psychologist's state.
        conversation = await _locked(tx, found.conversation_id)
        handoff = await _locked_handoff(tx, handoff_id)
        if handoff.status == HandoffStatus.ACCEPTED:
            raise HandoffTaken()
        if handoff.status != HandoffStatus.PENDING:
            raise HandoffWithdrawn()
        officer_id = handoff.from_staff_id
        if conversation.status != Status.ACTIVE or conversation.assigned_staff_id != officer_id:
            raise HandoffWithdrawn()
        await reserve_slot(tx, staff.id, rt.settings.routing_default_capacity)
        result = await tx.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.PENDING)
            .values(status=HandoffStatus.ACCEPTED, psychologist_id=staff.id, decided_at=tx.now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise HandoffTaken()
        conversation.assigned_staff_id = staff.id
        conversation.assigned_at = tx.now
        tx.session.add(
            ConversationTransfer(
                conversation_id=conversation.id,
                from_staff_id=officer_id,
                to_staff_id=staff.id,
                note_ciphertext=handoff.note_ciphertext,
                at=tx.now,
            )
        )
        if handoff.officer_stays:
            await _follow(tx, conversation.id, officer_id, ParticipantMode.OBSERVER)
        await append_system(tx, conversation, SystemEvent.TRANSFERRED_PSYCHOLOGIST)
        await record(
            tx,
            AuditAction.HANDOFF_ACCEPTED,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={
                "handoff_id": handoff.id,
                "from_staff_id": officer_id,
                "officer_stays": handoff.officer_stays,
            },
        )
        tx.publish_on_commit(
            conversation_topic(conversation.id), {"type": "assigned", "role": staff.role}
        )
        tx.publish_on_commit(
            staff_topic(staff.id), {"type": "assigned_to_you", "conversation_id": conversation.id}
        )
        tx.publish_on_commit(
            staff_topic(officer_id),
            {
                "type": "handoff_accepted",
                "handoff_id": handoff.id,
                "conversation_id": conversation.id,
                "stay": handoff.officer_stays,
            },
        )
        if not handoff.officer_stays:
            tx.publish_on_commit(
                staff_topic(officer_id),
                {"type": "released", "conversation_id": conversation.id, "reason": "handoff"},
            )
        await _release_readers(tx, conversation.id, keep=staff.id, reason="handoff_taken")
        _changed(tx)
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "slot_freed"})
    return handoff


async def _follow(tx: Tx, conversation_id: str, staff_id: int, mode: ParticipantMode) -> bool:
    """Make the staff member a participant in `mode` (a member stays a member when asked to
    observe); True when something changed."""
    current = await queries.participant(tx.session, conversation_id, staff_id)
    if current is not None:
        if current.mode == mode or current.mode == ParticipantMode.MEMBER:
            return False
        current.mode = mode
        return True
    tx.session.add(
        ConversationParticipant(
            conversation_id=conversation_id, staff_id=staff_id, mode=mode, since=tx.now
        )
    )
    return True


async def leave_conversation(rt: Runtime, *, staff: StaffIdentity, conversation_id: str) -> None:
    """Stop observing (or following as a member) a conversation one is not in charge of; the
    staff member's consoles drop it. Nothing happens for a conversation one is in charge of."""
    if not staff.can(Permission.CONVERSATION_CHAT):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.assigned_staff_id == staff.id and conversation.status == Status.ACTIVE:
            return
        current = await queries.participant(tx.session, conversation_id, staff.id)
        if current is not None:
            current.left_at = tx.now
        tx.publish_on_commit(
            staff_topic(staff.id),
            {"type": "released", "conversation_id": conversation_id, "reason": "left"},
        )


# --- supervision --------------------------------------------------------------------------


async def _supervised(tx: Tx, staff: StaffIdentity, conversation_id: str) -> Conversation:
    if not staff.can(Permission.CONVERSATION_SUPERVISE):
        raise PermissionDenied()
    conversation = await _locked(tx, conversation_id)
    scope = await queries.scope_of(tx.session, staff.id)
    if not scope.covers(conversation):
        raise OutOfScope()
    if conversation.status != Status.ACTIVE:
        raise ConversationClosed()
    return conversation


async def supervise_read(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> Conversation:
    """A supervisor reads a live conversation of their teams, as a silent observer.
    Audited as `conversation.read`."""
    async with rt.transaction() as tx:
        conversation = await _supervised(tx, staff, conversation_id)
        if conversation.assigned_staff_id != staff.id:
            await _follow(tx, conversation.id, staff.id, ParticipantMode.OBSERVER)
        await record(
            tx,
            AuditAction.CONVERSATION_READ,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"as": "supervisor"},
        )
    return conversation


async def join_conversation(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> Conversation:
    """A supervisor joins a live conversation of their teams: they write alongside the person
    in charge, and the visitor is told a supervisor joined. Audited as
    `conversation.joined` (and, as any opening, `conversation.read`)."""
    async with rt.transaction() as tx:
        conversation = await _supervised(tx, staff, conversation_id)
        if conversation.assigned_staff_id != staff.id and await _follow(
            tx, conversation.id, staff.id, ParticipantMode.MEMBER
        ):
            await append_system(tx, conversation, SystemEvent.ASSIGNED_SUPERVISOR)
            await record(
                tx,
                AuditAction.CONVERSATION_JOINED,
                actor_staff_id=staff.id,
                conversation_id=conversation.id,
            )
        await record(
            tx,
            AuditAction.CONVERSATION_READ,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"as": "supervisor"},
        )
    return conversation


async def reassign_conversation(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, to_staff_id: int, note: str = ""
) -> Conversation:
    """A supervisor moves a live conversation of their teams to another officer (within that
    officer's capacity), with the transfer's rules: history and note kept, the visitor told,
    the previous holder released. Audited as `conversation.reassigned`."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise TransferInvalid(N_("The note is too long (1,000 characters at most)."))
    async with rt.transaction() as tx:
        conversation = await _supervised(tx, staff, conversation_id)
        if conversation.assigned_staff_id is not None:
            # Before `released`: the holder's console says why the conversation went.
            tx.publish_on_commit(
                staff_topic(conversation.assigned_staff_id),
                {"type": "reassigned_away", "conversation_id": conversation.id},
            )
        await move_conversation(
            tx,
            conversation,
            default_capacity=rt.settings.routing_default_capacity,
            actor_id=staff.id,
            to_staff_id=to_staff_id,
            note=note,
            action=AuditAction.CONVERSATION_REASSIGNED,
            reason="reassigned",
        )
        # A hand-off asked by the previous holder can no longer be accepted.
        pending = await queries.pending_handoff(tx.session, conversation.id)
        if pending is not None:
            pending.status = HandoffStatus.CANCELLED
            pending.decided_at = tx.now
            await _release_readers(tx, conversation.id, keep=None, reason="handoff_cancelled")
            _changed(tx)
    return conversation
