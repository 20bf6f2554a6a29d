"""Case-work actions on the database under test: notes, flags, closing qualification,
transcript."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.casework import actions
from confide.casework.errors import FlagInvalid, NoteInvalid, NoteTooLong, QualificationInvalid
from confide.casework.models import ConversationNote, ConversationOutcome
from confide.conversations import actions as conversation_actions
from confide.conversations.models import Conversation
from confide.conversations.schemas import Author, AuthorKind, MessageKind, Status
from confide.errors import PermissionDenied
from confide.routing.actions import SUPERVISORS_TOPIC
from confide.runtime import Runtime
from tests.casework.helpers import QUALIFICATION, identity
from tests.conftest import Persona

VISITOR = Author(AuthorKind.VISITOR)


def listen(rt: Runtime, topic: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    asyncio.get_running_loop().create_task(rt.bus.subscribe(topic, received.append))
    return received


async def active(rt: Runtime, officer: Persona, postcode: str = "75011") -> Conversation:
    conversation, _ = await conversation_actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode=postcode, lang="fr"
    )
    await conversation_actions.take_conversation(
        rt, staff=identity(officer), conversation_id=conversation.id
    )
    return conversation


async def audit_of(rt: Runtime, conversation_id: str, action: str) -> list[AuditEvent]:
    async with rt.reading() as session:
        return list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.conversation_id == conversation_id, AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        )


async def reload(rt: Runtime, conversation_id: str) -> Conversation:
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
    assert conversation is not None
    return conversation


# ---- notes -------------------------------------------------------------------------------


async def test_notes_are_encrypted_at_rest_and_audited_without_their_text(
    rt: Runtime, officer_paris: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    secret = f"Violences répétées, enfants présents {uuid.uuid4().hex}"
    events = listen(rt, f"conv:{conversation.id}")
    await actions.add_note(
        rt, staff=identity(officer_paris), conversation_id=conversation.id, body=secret
    )
    async with rt.reading() as session:
        rows = list(
            await session.scalars(
                select(ConversationNote).where(ConversationNote.conversation_id == conversation.id)
            )
        )
    assert len(rows) == 1
    assert secret.encode() not in rows[0].ciphertext
    assert b"enfants" not in rows[0].ciphertext
    notes = await actions.notes_for(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    assert [(n.body, n.author_role) for n in notes] == [(secret, "officer")]
    [event] = await audit_of(rt, conversation.id, "conversation.note_added")
    assert event.actor_staff_id == officer_paris.id
    assert "enfants" not in event.detail
    await asyncio.sleep(0)
    # Only a hint goes on the conversation topic (visitor sockets listen there).
    assert events == [{"type": "notes_changed"}]


async def test_notes_are_checked_and_kept_to_staff_in_charge_or_supervisors(
    rt: Runtime, officer_paris: Persona, officer_national: Persona, supervisor: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    with pytest.raises(NoteInvalid):
        await actions.add_note(
            rt, staff=identity(officer_paris), conversation_id=conversation.id, body="   "
        )
    with pytest.raises(NoteTooLong):
        await actions.add_note(
            rt, staff=identity(officer_paris), conversation_id=conversation.id, body="x" * 2001
        )
    with pytest.raises(PermissionDenied):
        await actions.add_note(
            rt, staff=identity(officer_national), conversation_id=conversation.id, body="hello"
        )
    with pytest.raises(PermissionDenied):
        await actions.notes_for(
            rt, staff=identity(officer_national), conversation_id=conversation.id
        )
    await actions.add_note(
        rt, staff=identity(supervisor), conversation_id=conversation.id, body="Vu, rappeler."
    )
    notes = await actions.notes_for(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    assert [n.author_role for n in notes] == ["supervisor"]


async def test_notes_survive_a_transfer(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    from confide.routing import actions as routing_actions

    conversation = await active(rt, officer_paris)
    await actions.add_note(
        rt, staff=identity(officer_paris), conversation_id=conversation.id, body="Arme au domicile"
    )
    await routing_actions.transfer_conversation(
        rt,
        staff=identity(officer_paris),
        conversation_id=conversation.id,
        to_staff_id=officer_national.id,
    )
    notes = await actions.notes_for(
        rt, staff=identity(officer_national), conversation_id=conversation.id
    )
    assert [n.body for n in notes] == ["Arme au domicile"]
    with pytest.raises(PermissionDenied):
        await actions.notes_for(rt, staff=identity(officer_paris), conversation_id=conversation.id)


# ---- flags -------------------------------------------------------------------------------


async def test_flags_set_the_priority_and_alert_supervisors(
    rt: Runtime, officer_paris: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    alerts = listen(rt, SUPERVISORS_TOPIC)
    events = listen(rt, f"conv:{conversation.id}")
    officer = identity(officer_paris)
    flags = await actions.set_flag(
        rt, staff=officer, conversation_id=conversation.id, flag="minor", on=True
    )
    assert flags == ["minor"]
    assert (await reload(rt, conversation.id)).priority == 1
    flags = await actions.set_flag(
        rt, staff=officer, conversation_id=conversation.id, flag="danger", on=True
    )
    assert flags == ["danger", "minor"]
    assert (await reload(rt, conversation.id)).priority == 2
    # Setting it again changes nothing and alerts nobody.
    await actions.set_flag(
        rt, staff=officer, conversation_id=conversation.id, flag="danger", on=True
    )
    flags = await actions.set_flag(
        rt, staff=officer, conversation_id=conversation.id, flag="danger", on=False
    )
    assert flags == ["minor"]
    assert (await reload(rt, conversation.id)).priority == 1
    await actions.set_flag(
        rt, staff=officer, conversation_id=conversation.id, flag="minor", on=False
    )
    stored = await reload(rt, conversation.id)
    assert (stored.priority, stored.flags) == (0, "")
    await asyncio.sleep(0)
    assert [(a["type"], a["flag"]) for a in alerts] == [
        ("flag_alert", "minor"),
        ("flag_alert", "danger"),
    ]
    assert alerts[1] == {
        "type": "flag_alert",
        "conversation_id": conversation.id,
        "flag": "danger",
        "channel": "domestic",
        "departement": "75",
        "by_role": "officer",
    }
    assert [e["flags"] for e in events if e["type"] == "flags_changed"] == [
        ["minor"],
        ["danger", "minor"],
        ["minor"],
        [],
    ]
    audit = await audit_of(rt, conversation.id, "conversation.flags_changed")
    assert [json.loads(e.detail) for e in audit] == [
        {"flag": "minor", "on": True},
        {"flag": "danger", "on": True},
        {"flag": "danger", "on": False},
        {"flag": "minor", "on": False},
    ]


async def test_a_flagged_conversation_put_back_in_the_queue_comes_first(
    rt: Runtime, officer_paris: Persona, supervisor: Persona
) -> None:
    from confide.conversations import queries as conversation_queries

    earlier, _ = await conversation_actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
    )
    flagged, _ = await conversation_actions.start_conversation(
        rt, channel="sexual", visitor_role="witness", postcode="75011", lang="fr"
    )
    # A supervisor may flag a waiting conversation.
    await actions.set_flag(
        rt, staff=identity(supervisor), conversation_id=flagged.id, flag="danger", on=True
    )
    async with rt.reading() as session:
        order = [w.id for w in await conversation_queries.waiting_queue(session)]
    assert order.index(flagged.id) < order.index(earlier.id)
    with pytest.raises(PermissionDenied):
        await actions.set_flag(
            rt, staff=identity(officer_paris), conversation_id=earlier.id, flag="danger", on=True
        )
    with pytest.raises(FlagInvalid):
        await actions.set_flag(
            rt, staff=identity(supervisor), conversation_id=earlier.id, flag="urgent", on=True
        )


# ---- closing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qualification", "expected"),
    [
        (None, "Please complete the closing form"),
        ({"offence": "yes", "outcomes": ["information"]}, "confirm the chat type"),
        ({"channel": "sexual", "outcomes": ["referral"]}, "whether an offence is suspected"),
        ({"channel": "sexual", "offence": "no", "outcomes": []}, "at least one outcome"),
        ({"channel": "sexual", "offence": "no"}, "at least one outcome"),
        ({"channel": "sexual", "offence": "no", "outcomes": ["lunch"]}, "at least one outcome"),
        ({"channel": "theft", "offence": "no", "outcomes": ["referral"]}, "confirm the chat type"),
        ({"channel": "sexual", "offence": "maybe", "outcomes": ["referral"]}, "offence"),
    ],
)
async def test_an_incomplete_qualification_closes_nothing(
    rt: Runtime, officer_paris: Persona, qualification: Any, expected: str
) -> None:
    conversation = await active(rt, officer_paris)
    with pytest.raises(QualificationInvalid) as raised:
        await actions.close_with_qualification(
            rt,
            staff=identity(officer_paris),
            conversation_id=conversation.id,
            qualification=qualification,
        )
    assert expected in raised.value.message
    assert (await reload(rt, conversation.id)).status == Status.ACTIVE
    async with rt.reading() as session:
        assert await session.get(ConversationOutcome, conversation.id) is None
    assert await audit_of(rt, conversation.id, "conversation.closed") == []


async def test_closing_stores_the_qualification_with_the_close(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    qualification = {
        "channel": "sexual",
        "offence": "yes",
        "outcomes": ["referral", "emergency", "referral"],
    }
    with pytest.raises(PermissionDenied):
        await actions.close_with_qualification(
            rt,
            staff=identity(officer_national),
            conversation_id=conversation.id,
            qualification=qualification,
        )
    await actions.close_with_qualification(
        rt,
        staff=identity(officer_paris),
        conversation_id=conversation.id,
        qualification=qualification,
    )
    stored = await reload(rt, conversation.id)
    assert stored.status == Status.CLOSED
    async with rt.reading() as session:
        outcome = await session.get(ConversationOutcome, conversation.id)
    assert outcome is not None
    assert (outcome.channel, outcome.offence, outcome.closed_by) == (
        "sexual",
        "yes",
        officer_paris.id,
    )
    assert (outcome.referral, outcome.emergency, outcome.information, outcome.handoff) == (
        True,
        True,
        False,
        False,
    )
    [event] = await audit_of(rt, conversation.id, "conversation.closed")
    assert json.loads(event.detail) == {
        "qualification": {
            "channel": "sexual",
            "offence": "yes",
            "outcomes": ["referral", "emergency"],
        }
    }


async def test_the_closing_form_is_prefilled_from_the_history(
    rt: Runtime, officer_paris: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    officer = identity(officer_paris)
    assert await actions.closing_prefill(rt, staff=officer, conversation_id=conversation.id) == {
        "channel": "domestic",
        "outcomes": [],
    }
    await conversation_actions.send_message(
        rt,
        conversation_id=conversation.id,
        author=Author(AuthorKind.OFFICER, officer_paris.id),
        client_id=str(uuid.uuid4()),
        body=json.dumps({"type": "cidff", "name": "CIDFF", "phone": "01 02 03 04 05"}),
        kind=MessageKind.REFERRAL,
    )
    assert await actions.closing_prefill(rt, staff=officer, conversation_id=conversation.id) == {
        "channel": "domestic",
        "outcomes": ["referral"],
    }


# ---- transcript --------------------------------------------------------------------------


async def test_transcript_digest_is_the_sha256_of_its_text(
    rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation = await active(rt, officer_paris)
    officer = identity(officer_paris)
    await conversation_actions.send_message(
        rt,
        conversation_id=conversation.id,
        author=VISITOR,
        client_id=str(uuid.uuid4()),
        body="Il m'a frappée hier soir.\nJ'ai peur.",
    )
    await conversation_actions.send_message(
        rt,
        conversation_id=conversation.id,
        author=Author(AuthorKind.OFFICER, officer_paris.id),
        client_id=str(uuid.uuid4()),
        body=json.dumps(
            {"type": "cidff", "name": "CIDFF de Paris", "phone": "01 02 03 04 05", "hours": "9-17"}
        ),
        kind=MessageKind.REFERRAL,
    )
    await actions.add_note(
        rt, staff=officer, conversation_id=conversation.id, body="NOTE-INTERNE-SECRETE"
    )
    await conversation_actions.close_conversation(
        rt, staff=officer, conversation_id=conversation.id, qualification=QUALIFICATION
    )
    transcript = await actions.export_transcript(
        rt, staff=officer, conversation_id=conversation.id, lang="en", fmt="txt"
    )
    assert transcript.digest == hashlib.sha256(transcript.text.encode("utf-8")).hexdigest()
    text = transcript.text
    assert conversation.id in text
    assert "Il m'a frappée hier soir." in text
    assert "The person" in text
    assert f"Police officer {officer_paris.username}" in text
    assert "CIDFF de Paris" in text
    assert '{"type"' not in text  # cards as readable text
    assert "Europe/Paris" in text
    assert "UTC" in text
    assert "NOTE-INTERNE-SECRETE" not in text
    assert "Domestic violence" in text
    assert "Information given" in text
    # Same content, same digest: a clerk can check it later.
    again = await actions.export_transcript(
        rt, staff=officer, conversation_id=conversation.id, lang="en", fmt="html"
    )
    assert again.digest == transcript.digest
    audit = await audit_of(rt, conversation.id, "transcript.exported")
    assert [json.loads(e.detail)["format"] for e in audit] == ["txt", "html"]
    assert all(e.actor_staff_id == officer_paris.id for e in audit)
    # Psychologists have no export permission; other officers never handled it.
    with pytest.raises(PermissionDenied):
        await actions.export_transcript(
            rt, staff=identity(psychologist), conversation_id=conversation.id, lang="en", fmt="txt"
        )


async def test_an_officer_who_handed_over_may_still_export(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    from confide.routing import actions as routing_actions

    conversation = await active(rt, officer_paris)
    await routing_actions.transfer_conversation(
        rt,
        staff=identity(officer_paris),
        conversation_id=conversation.id,
        to_staff_id=officer_national.id,
    )
    transcript = await actions.export_transcript(
        rt, staff=identity(officer_paris), conversation_id=conversation.id, lang="fr", fmt="txt"
    )
    assert conversation.id in transcript.text
