"""Signalements: an officer records a report for a competent unit about a conversation
(unit, facts, urgency, whether the person agreed to be contacted) and exports it for that
unit. Facts and contact details are encrypted with the conversation's data key; the audit
log gets identifiers only. Sealed connection data is never read here.

Who: `staff:signalement:write`, and the staff member in charge of the conversation (or one
who may read every conversation, a supervisor). The author keeps access to what they wrote.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from confide.audit.actions import AuditAction, record
from confide.conversations import queries as conversation_queries
from confide.conversations.actions import conversation_topic
from confide.conversations.errors import ConversationNotFound
from confide.conversations.models import Conversation
from confide.disclosure import actions as disclosure_actions
from confide.disclosure import queries as disclosure_queries
from confide.disclosure.schemas import IDENTITY_FIELDS
from confide.errors import PermissionDenied
from confide.i18n import N_
from confide.referrals import actions as referral_actions
from confide.referrals import queries as referral_queries
from confide.runtime import Runtime, Tx
from confide.security.keyring import encrypt_text
from confide.security.permissions import Permission
from confide.signalements import queries
from confide.signalements.errors import NothingShared, SignalementInvalid, SignalementNotFound
from confide.signalements.models import Signalement
from confide.signalements.schemas import (
    CONTACT_MAX,
    FACTS_MAX,
    SAVED_EVENT,
    UNIT_MAX,
    UNIT_TYPES,
    SignalementForm,
    SignalementView,
    UnitChoice,
    Urgency,
    summary,
)
from confide.staff.models import StaffMember
from confide.staff.schemas import StaffIdentity

#: Labels of the voluntary identity fields when they prefill the contact details.
IDENTITY_LABELS = {
    "name": N_("Name"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "address": N_("Address"),
}


def may_write(staff: StaffIdentity, conversation: Conversation) -> bool:
    """Whether `staff` may write a signalement about `conversation`."""
    return staff.can(Permission.SIGNALEMENT_WRITE) and conversation_queries.in_charge_or_reads_all(
        staff, conversation
    )


def _may_access(staff: StaffIdentity, conversation: Conversation, signalement: Signalement) -> bool:
    return may_write(staff, conversation) or (
        staff.can(Permission.SIGNALEMENT_WRITE) and signalement.author_staff_id == staff.id
    )


async def _conversation(
    session: AsyncSession, staff: StaffIdentity, conversation_id: str
) -> Conversation:
    if not staff.can(Permission.SIGNALEMENT_WRITE):
        raise PermissionDenied()
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    if not may_write(staff, conversation):
        raise PermissionDenied()
    return conversation


async def _units(session: AsyncSession, conversation: Conversation) -> list[UnitChoice]:
    found = await referral_queries.lookup_near(
        session,
        departements=referral_actions.departements_of(conversation),
        types=UNIT_TYPES,
        with_national=False,
    )
    return [
        UnitChoice(
            id=r.id,
            name=r.name,
            type=r.type,
            departement=r.departement,
            distance=referral_queries.DISTANCE_NAMES[distance],
        )
        for r, distance in found
    ]


async def form_context(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> tuple[Conversation, list[UnitChoice], bool]:
    """What the new-signalement form needs: the conversation, the police and gendarmerie
    units and social workers of the directory near it (same départements first, then the
    bordering ones), and whether the person shared contact details."""
    async with rt.reading() as session:
        conversation = await _conversation(session, staff, conversation_id)
        units = await _units(session, conversation)
        shared = await _identity_shared(session, conversation_id)
    return conversation, units, shared


async def _identity_shared(session: AsyncSession, conversation_id: str) -> bool:
    return await disclosure_queries.has_identity(session, conversation_id)


def check_form(form: SignalementForm, units: list[UnitChoice]) -> tuple[str, int | None]:
    """The unit (name and directory id) of a valid form; `SignalementInvalid` with every
    field that is wrong otherwise."""
    errors: dict[str, str] = {}
    unit_name, referral_id = form.unit_name.strip(), None
    if form.referral_id:
        chosen = next((u for u in units if str(u.id) == form.referral_id), None)
        if chosen is None:
            errors["unit"] = N_("This unit is not in the directory near the conversation any more.")
        else:
            unit_name, referral_id = chosen.name, chosen.id
    elif not unit_name:
        errors["unit"] = N_("Choose a unit from the list or type its name.")
    elif len(unit_name) > UNIT_MAX:
        errors["unit"] = N_("The unit's name is too long (200 characters at most).")
    if form.urgency not in set(Urgency):
        errors["urgency"] = N_("Choose the urgency.")
    facts = form.facts.strip()
    if not facts:
        errors["facts"] = N_("Summarise the facts for the unit.")
    elif len(facts) > FACTS_MAX:
        errors["facts"] = N_("The summary is too long (4,000 characters at most).")
    contact = form.contact.strip()
    if len(contact) > CONTACT_MAX:
        errors["contact"] = N_("The contact details are too long (1,000 characters at most).")
    elif contact and not form.agreed_contact:
        errors["contact"] = N_(
            "Contact details can be given only if the person agreed to be contacted."
        )
    if errors:
        raise SignalementInvalid(errors)
    return unit_name, referral_id


async def _audit(
    tx: Tx, action: AuditAction, staff: StaffIdentity, row: Signalement, **detail: str | int | bool
) -> None:
    await record(
        tx,
        action,
        actor_staff_id=staff.id,
        conversation_id=row.conversation_id,
        detail={"signalement_id": row.id, **detail},
    )


async def save_signalement(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    form: SignalementForm,
    conversation_id: str | None = None,
    signalement_id: int | None = None,
) -> Signalement:
    """Write a new signalement about `conversation_id`, or change `signalement_id` (every
    field replaced). Facts and contact details are stored encrypted. Audited as
    `signalement.created` or `signalement.updated` (never any text); the
    consoles following the conversation are told (unit and urgency only)."""
    if not staff.can(Permission.SIGNALEMENT_WRITE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        row: Signalement | None = None
        if signalement_id is not None:
            row = await tx.session.get(Signalement, signalement_id)
            if row is None:
                raise SignalementNotFound()
            conversation = await tx.session.get(Conversation, row.conversation_id)
            if conversation is None:
                raise SignalementNotFound()
            if not _may_access(staff, conversation, row):
                raise PermissionDenied()
        else:
            if conversation_id is None:
                raise ConversationNotFound()
            conversation = await _conversation(tx.session, staff, conversation_id)
        unit_name, referral_id = check_form(form, await _units(tx.session, conversation))
        key = conversation_queries.data_key(tx.keyring, conversation)
        contact = form.contact.strip()
        values = {
            "unit_name": unit_name,
            "referral_id": referral_id,
            "urgency": form.urgency,
            "visitor_agreed_contact": form.agreed_contact,
            "facts_ciphertext": encrypt_text(key, form.facts.strip()),
            "contact_ciphertext": encrypt_text(key, contact) if contact else None,
            "updated_at": tx.now,
        }
        if row is None:
            row = Signalement(
                conversation_id=conversation.id,
                author_staff_id=staff.id,
                created_at=tx.now,
                **values,
            )
            tx.session.add(row)
            await tx.session.flush()
            await _audit(tx, AuditAction.SIGNALEMENT_CREATED, staff, row, urgency=form.urgency)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            await _audit(tx, AuditAction.SIGNALEMENT_UPDATED, staff, row, urgency=form.urgency)
        tx.publish_on_commit(
            conversation_topic(conversation.id),
            {
                "type": SAVED_EVENT,
                "signalement": summary(row.id, row.unit_name, row.urgency, row.created_at),
            },
        )
    return row


async def _open(
    rt: Runtime, staff: StaffIdentity, signalement_id: int, action: AuditAction, **detail: str
) -> SignalementView:
    if not staff.can(Permission.SIGNALEMENT_WRITE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        row = await tx.session.get(Signalement, signalement_id)
        if row is None:
            raise SignalementNotFound()
        conversation = await tx.session.get(Conversation, row.conversation_id)
        author = await tx.session.get(StaffMember, row.author_staff_id)
        if conversation is None or author is None:
            raise SignalementNotFound()
        if not _may_access(staff, conversation, row):
            raise PermissionDenied()
        view = queries.view(row, conversation, author, tx.keyring)
        await _audit(tx, action, staff, row, **detail)
    return view


async def open_for_edit(
    rt: Runtime, *, staff: StaffIdentity, signalement_id: int
) -> SignalementView:
    """A signalement to change it (its texts decrypted): audited as `conversation.read`."""
    return await _open(rt, staff, signalement_id, AuditAction.CONVERSATION_READ)


async def export_signalement(
    rt: Runtime, *, staff: StaffIdentity, signalement_id: int, format: str
) -> SignalementView:
    """A signalement for its unit (`format`: "html" printable page, "text" plain text).
    Every export is audited as `signalement.exported`."""
    return await _open(rt, staff, signalement_id, AuditAction.SIGNALEMENT_EXPORTED, format=format)


async def units_for(rt: Runtime, *, staff: StaffIdentity, signalement_id: int) -> list[UnitChoice]:
    """The units offered when changing a signalement (no audit: no text is read)."""
    if not staff.can(Permission.SIGNALEMENT_WRITE):
        raise PermissionDenied()
    async with rt.reading() as session:
        row = await session.get(Signalement, signalement_id)
        if row is None:
            raise SignalementNotFound()
        conversation = await session.get(Conversation, row.conversation_id)
        if conversation is None:
            raise SignalementNotFound()
        if not _may_access(staff, conversation, row):
            raise PermissionDenied()
        return await _units(session, conversation)


async def contact_from_identity(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, translate: Callable[[str], str]
) -> str:
    """The contact details the person shared in the chat, as text to prefill the form
    (when the officer asks for it). Reading them is audited as `identity.viewed`; only the
    staff member in charge of the conversation may."""
    async with rt.reading() as session:
        await _conversation(session, staff, conversation_id)
    fields = await disclosure_actions.view_identity(
        rt, staff=staff, conversation_id=conversation_id
    )
    if not fields:
        raise NothingShared()
    return "\n".join(
        f"{translate(IDENTITY_LABELS[name])}: {fields[name]}"
        for name in IDENTITY_FIELDS
        if fields.get(name)
    )
