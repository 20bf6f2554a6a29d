"""An officer sends a resource card: the visitor receives a `referral` message, stored
encrypted with the conversation's other messages."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from confide.conversations.models import Message
from confide.referrals import actions
from confide.runtime import Runtime
from tests.clients import officer_takes, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"


async def test_officer_sends_a_resource_card_that_the_visitor_receives(
    rt: Runtime, live_server: LiveServer, officer_paris: Persona, officer_national: Persona
) -> None:
    await actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    conversation_id, token = await start_conversation(live_server, postcode="75011")
    visitor, _ = await visitor_socket(live_server, token)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await visitor.expect("assigned")

    await officer.send({"type": "referrals", "conversation_id": conversation_id})
    directory = await officer.expect("referrals", conversation_id=conversation_id)
    by_name = {r["name"]: r for r in directory["resources"]}
    assert "3919 Violences Femmes Info" in by_name
    assert "[FICTIF] CIDFF de Paris" in by_name
    assert not [n for n in by_name if "Lozère" in n]
    cidff = by_name["[FICTIF] CIDFF de Paris"]

    client_id = "0b6c8a52-34c4-4a4f-9f63-0d4f0d7f9a10"
    frame = {
        "type": "send_referral",
        "conversation_id": conversation_id,
        "referral_id": cidff["id"],
        "client_id": client_id,
    }
    await officer.send(frame)
    ack = await officer.expect("ack", client_id=client_id)
    card = await visitor.expect("message", seq=ack["seq"])
    assert card["kind"] == "referral"
    assert card["author"] == "officer"
    body = json.loads(card["body"])
    assert body["name"] == "[FICTIF] CIDFF de Paris"
    assert body["phone"] == "01 00 00 00 02"
    assert body["email"] == "cidff@fictif.invalid"
    assert body["type"] == "cidff"

    # A resend stores nothing new.
    await officer.send(frame)
    assert (await officer.expect("ack", client_id=client_id))["seq"] == ack["seq"]

    async with rt.reading() as session:
        rows = list(
            await session.scalars(select(Message).where(Message.conversation_id == conversation_id))
        )
    stored = [m for m in rows if m.kind == "referral"]
    assert len(stored) == 1
    for message in rows:
        assert b"00 00 00 02" not in bytes(message.ciphertext)
        assert b"CIDFF" not in bytes(message.ciphertext)

    # Someone else's conversation: neither the directory nor a card.
    intruder = await officer_takes(
        live_server, officer_national, (await start_conversation(live_server))[0]
    )
    await intruder.send({"type": "referrals", "conversation_id": conversation_id})
    assert (await intruder.expect("error"))["code"] == "forbidden"
    await intruder.send({**frame, "client_id": None})
    assert (await intruder.expect("error"))["code"] == "forbidden"
    await intruder.close()
    await officer.close()
    await visitor.close()
