"""Signalements on the database under test: written by the officer in charge (or a
supervisor), stored encrypted, validated field by field, audited without any text, and
exported with the facts but never the sealed connection data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.conversations.models import Conversation
from confide.disclosure import actions as disclosure_actions
from confide.disclosure.schemas import ConnectionInfo
from confide.errors import PermissionDenied
from confide.referrals import actions as referral_actions
from confide.runtime import Runtime
from confide.signalements import actions
from confide.signalements.errors import NothingShared, SignalementInvalid
from confide.signalements.models import Signalement
from confide.signalements.schemas import SignalementForm
from confide.staff.models import StaffMember
from confide.staff.schemas import StaffIdentity
from tests.conftest import Persona, make_staff

FACTS = "Coups répétés du conjoint, dernier épisode hier soir ; deux enfants au domicile."
CONTACT = "Téléphone : 06 12 34 56 78, après 18 h"
VISITOR_IP = "203.0.113.77"
UNITS_CSV = (
    "type,name,address,postcode,insee,departement,phone,email,hours,audience,channels,source\n"
    "unite_police_gendarmerie,[FICTIF] Commissariat Paris 11,,,,75,01 00 00 00 11,,,all,domestic sexual discrimination,x\n"
    "intervenant_social,[FICTIF] Intervenante sociale Paris,,,,75,01 00 00 00 12,,,all,domestic,x\n"
    "unite_police_gendarmerie,[FICTIF] Commissariat Nanterre,,,,92,01 00 00 00 13,,,all,domestic,x\n"
    "unite_police_gendarmerie,[FICTIF] Brigade de Mende,,,,48,04 00 00 00 14,,,all,domestic,x\n"
    "cidff,[FICTIF] CIDFF Paris,,,,75,01 00 00 00 15,,,women,domestic,x\n"
    "ligne_nationale,17 Police-secours,,,,,17,,,all,domestic sexual discrimination,x\n"
)


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, f"Agent {persona.id}", persona.role, 0, "")


async def assigned(rt: Runtime, officer: Persona, postcode: str = "75011") -> Conversation:
    conversation, _ = await conversation_actions.start_conversation(
        rt,
        channel="domestic",
        visitor_role="victim",
        postcode=postcode,
        lang="fr",
        connection=ConnectionInfo(ip=VISITOR_IP, port=40000, user_agent="Sealed/1.0"),
    )
    return await conversation_actions.take_conversation(
        rt, staff=identity(officer), conversation_id=conversation.id
    )


def good_form(**changes: object) -> SignalementForm:
    values: dict[str, object] = {
        "unit_name": "Brigade de protection des familles de Paris",
        "urgency": "within_24h",
        "agreed_contact": True,
        "facts": FACTS,
        "contact": CONTACT,
    }
    values.update(changes)
    return SignalementForm(**values)  # type: ignore[arg-type]


async def audit_of(rt: Runtime, conversation_id: str) -> list[AuditEvent]:
    async with rt.reading() as session:
        return list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.conversation_id == conversation_id)
                .order_by(AuditEvent.id)
            )
        )


async def test_a_signalement_is_stored_encrypted_and_audited_without_text(
    rt: Runtime, officer_paris: Persona, prosecutor_key: int
) -> None:
    conversation = await assigned(rt, officer_paris)
    saved = await actions.save_signalement(
        rt, staff=identity(officer_paris), form=good_form(), conversation_id=conversation.id
    )
    async with rt.reading() as session:
        row = await session.get(Signalement, saved.id)
    assert row is not None
    assert row.unit_name == "Brigade de protection des familles de Paris"
    assert row.referral_id is None
    assert row.urgency == "within_24h"
    assert row.visitor_agreed_contact is True
    for blob in (row.facts_ciphertext, row.contact_ciphertext):
        assert blob is not None
        assert b"conjoint" not in bytes(blob)
        assert b"06 12" not in bytes(blob)
    events = [e for e in await audit_of(rt, conversation.id) if e.action == "signalement.created"]
    assert len(events) == 1
    assert events[0].actor_staff_id == officer_paris.id
    assert json.loads(events[0].detail) == {"signalement_id": saved.id, "urgency": "within_24h"}
    assert "conjoint" not in events[0].detail
    assert "06 12" not in events[0].detail


async def test_the_export_has_the_facts_and_never_the_sealed_connection_data(
    rt: Runtime, officer_paris: Persona, prosecutor_key: int
) -> None:
    conversation = await assigned(rt, officer_paris)
    saved = await actions.save_signalement(
        rt, staff=identity(officer_paris), form=good_form(), conversation_id=conversation.id
    )
    view = await actions.export_signalement(
        rt, staff=identity(officer_paris), signalement_id=saved.id, format="text"
    )
    from confide.signalements.routes import export_text

    text = export_text(view, "en")
    assert FACTS in text
    assert CONTACT in text
    assert conversation.id in text
    assert view.reference in text
    assert "Within 24 hours" in text
    async with rt.reading() as session:
        author = await session.get(StaffMember, officer_paris.id)
    assert author is not None
    assert f"{author.display_name} (Police officer)" in text
    assert "Paris (75)" in text
    assert VISITOR_IP not in text
    assert "Sealed/1.0" not in text
    assert "40000" not in text
    exported = [
        e for e in await audit_of(rt, conversation.id) if e.action == "signalement.exported"
    ]
    assert [json.loads(e.detail) for e in exported] == [
        {"signalement_id": saved.id, "format": "text"}
    ]

    # Without the person's consent the contact details are refused, and never exported.
    with pytest.raises(SignalementInvalid) as refused:
        await actions.save_signalement(
            rt,
            staff=identity(officer_paris),
            form=good_form(agreed_contact=False),
            signalement_id=saved.id,
        )
    assert set(refused.value.fields) == {"contact"}
    await actions.save_signalement(
        rt,
        staff=identity(officer_paris),
        form=good_form(agreed_contact=False, contact=""),
        signalement_id=saved.id,
    )
    view = await actions.export_signalement(
        rt, staff=identity(officer_paris), signalement_id=saved.id, format="html"
    )
    assert CONTACT not in export_text(view, "en")
    assert "did not agree" in export_text(view, "en")


async def test_every_wrong_field_is_named(rt: Runtime, officer_paris: Persona) -> None:
    conversation = await assigned(rt, officer_paris)
    with pytest.raises(SignalementInvalid) as error:
        await actions.save_signalement(
            rt,
            staff=identity(officer_paris),
            form=SignalementForm(unit_name="  ", urgency="tomorrow", facts=" ", contact=""),
            conversation_id=conversation.id,
        )
    assert set(error.value.fields) == {"unit", "urgency", "facts"}
    with pytest.raises(SignalementInvalid) as error:
        await actions.save_signalement(
            rt,
            staff=identity(officer_paris),
            form=good_form(facts="x" * 4001, unit_name="u" * 201),
            conversation_id=conversation.id,
        )
    assert set(error.value.fields) == {"unit", "facts"}
    async with rt.reading() as session:
        assert not list(
            await session.scalars(
                select(Signalement.id).where(Signalement.conversation_id == conversation.id)
            )
        )


async def test_only_the_officer_in_charge_or_a_supervisor_may_write(
    rt: Runtime, officer_paris: Persona, officer_national: Persona, supervisor: Persona
) -> None:
    conversation = await assigned(rt, officer_paris)
    psychologist = await make_staff(rt, "psychologist")
    admin = await make_staff(rt, "admin")
    for outsider in (officer_national, psychologist, admin):
        with pytest.raises(PermissionDenied):
            await actions.save_signalement(
                rt, staff=identity(outsider), form=good_form(), conversation_id=conversation.id
            )
    saved = await actions.save_signalement(
        rt, staff=identity(supervisor), form=good_form(), conversation_id=conversation.id
    )
    # The officer in charge reads and changes the supervisor's signalement; others cannot.
    await actions.open_for_edit(rt, staff=identity(officer_paris), signalement_id=saved.id)
    for outsider in (officer_national, psychologist, admin):
        with pytest.raises(PermissionDenied):
            await actions.export_signalement(
                rt, staff=identity(outsider), signalement_id=saved.id, format="html"
            )


async def test_a_unit_of_the_directory_near_the_conversation(
    rt: Runtime, officer_paris: Persona
) -> None:
    assert (await referral_actions.import_referrals(rt, UNITS_CSV)).errors == []
    conversation = await assigned(rt, officer_paris)
    _, units, shared = await actions.form_context(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    assert not shared
    # Units and social workers only: those of Paris first, then of the bordering départements.
    assert [(u.name, u.distance) for u in units] == [
        ("[FICTIF] Commissariat Paris 11", "departement"),
        ("[FICTIF] Intervenante sociale Paris", "departement"),
        ("[FICTIF] Commissariat Nanterre", "neighbour"),
    ]
    chosen = units[2]
    saved = await actions.save_signalement(
        rt,
        staff=identity(officer_paris),
        form=good_form(referral_id=str(chosen.id), unit_name="ignored"),
        conversation_id=conversation.id,
    )
    assert (saved.referral_id, saved.unit_name) == (chosen.id, "[FICTIF] Commissariat Nanterre")
    # A unit far away (Lozère), or a resource that is not a unit, cannot be chosen.
    async with rt.reading() as session:
        from confide.referrals.models import ReferralResource

        others = {
            r.name: r.id
            for r in await session.scalars(select(ReferralResource))
            if r.name in ("[FICTIF] Brigade de Mende", "[FICTIF] CIDFF Paris")
        }
    for other in others.values():
        with pytest.raises(SignalementInvalid) as error:
            await actions.save_signalement(
                rt,
                staff=identity(officer_paris),
                form=good_form(referral_id=str(other)),
                conversation_id=conversation.id,
            )
        assert set(error.value.fields) == {"unit"}


async def test_contact_details_from_what_the_person_shared_are_audited(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation = await assigned(rt, officer_paris)
    with pytest.raises(NothingShared):
        await actions.contact_from_identity(
            rt, staff=identity(officer_paris), conversation_id=conversation.id, translate=str
        )
    await disclosure_actions.give_identity(
        rt, conversation_id=conversation.id, fields={"name": "Camille", "phone": "06 00 00 00 01"}
    )
    with pytest.raises(PermissionDenied):
        await actions.contact_from_identity(
            rt, staff=identity(officer_national), conversation_id=conversation.id, translate=str
        )
    text = await actions.contact_from_identity(
        rt, staff=identity(officer_paris), conversation_id=conversation.id, translate=str
    )
    assert text == "Name: Camille\nPhone: 06 00 00 00 01"
    viewed = [e for e in await audit_of(rt, conversation.id) if e.action == "identity.viewed"]
    assert [e.actor_staff_id for e in viewed] == [officer_paris.id]
