"""Canned replies and guidance cards through the domain actions: who may write replies, what
is offered in a conversation, and guidance cards stored as `guidance` messages."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.conversations.models import Message
from confide.conversations.queries import messages_after
from confide.conversations.schemas import Channel
from confide.errors import PermissionDenied
from confide.i18n import translations
from confide.replies import actions, guidance
from confide.replies.errors import GuidanceNotFound, ReplyInvalid, ReplyNotFound
from confide.runtime import Runtime
from tests.conftest import Persona
from tests.replies.conftest import Converse, identity


def spec(title: str = "", **fields: str) -> actions.ReplySpec:
    values = {
        "title": title or f"Reply {uuid.uuid4().hex[:8]}",
        "body": "Bonjour, je vous écoute.",
        "channel": "all",
        "lang": "fr",
    }
    return actions.check_reply(**{**values, **fields})


async def audit_details(rt: Runtime, action: str) -> list[dict[str, object]]:
    async with rt.reading() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [json.loads(row.detail) for row in rows]


def test_a_reply_form_names_each_mistake() -> None:
    with pytest.raises(ReplyInvalid) as caught:
        actions.check_reply(title="  ", body="x" * 4001, channel="everything", lang="de")
    assert set(caught.value.fields) == {"title", "body", "channel", "lang"}
    assert "4,000" in caught.value.fields["body"]
    with pytest.raises(ReplyInvalid) as caught:
        actions.check_reply(title="t" * 121, body=" \n ", channel="sexual", lang="en")
    assert set(caught.value.fields) == {"title", "body"}
    cleaned = actions.check_reply(
        title="  Are   you safe? ", body="Line one\r\nline two\r\n", channel="domestic", lang="en"
    )
    assert cleaned == actions.ReplySpec("Are you safe?", "Line one\nline two", "domestic", "en")
    # Exactly 4,000 characters is allowed (a message's limit).
    assert len(actions.check_reply(title="t", body="x" * 4000, channel="all", lang="fr").body)


async def test_supervisors_and_admins_manage_replies_officers_cannot(
    rt: Runtime, officer_paris: Persona, supervisor: Persona, admin: Persona
) -> None:
    with pytest.raises(PermissionDenied):
        await actions.save_reply(rt, actor=identity(officer_paris), spec=spec())
    reply = await actions.save_reply(rt, actor=identity(admin), spec=spec("Accueil admin"))
    assert reply.updated_by == admin.id
    with pytest.raises(PermissionDenied):
        await actions.delete_reply(rt, actor=identity(officer_paris), reply_id=reply.id)
    edited = await actions.save_reply(
        rt, actor=identity(supervisor), spec=spec("Accueil édité"), reply_id=reply.id
    )
    assert (edited.id, edited.title, edited.updated_by) == (
        reply.id,
        "Accueil édité",
        supervisor.id,
    )
    await actions.delete_reply(rt, actor=identity(supervisor), reply_id=reply.id)
    with pytest.raises(ReplyNotFound):
        await actions.delete_reply(rt, actor=identity(supervisor), reply_id=reply.id)
    with pytest.raises(ReplyNotFound):
        await actions.save_reply(rt, actor=identity(admin), spec=spec(), reply_id=reply.id)
    details = await audit_details(rt, "reply.changed")
    mine = [d for d in details if d["reply_id"] == reply.id]
    assert [d["op"] for d in mine] == ["created", "updated", "deleted"]
    assert all(set(d) == {"reply_id", "op"} for d in mine), "no text in the audit log"


async def test_a_conversation_is_offered_the_replies_of_its_chat_and_language(
    rt: Runtime,
    converse: Converse,
    officer_paris: Persona,
    officer_national: Persona,
    supervisor: Persona,
    admin: Persona,
) -> None:
    tag = uuid.uuid4().hex[:8]
    manager = identity(supervisor)
    made = {
        name: await actions.save_reply(
            rt, actor=manager, spec=spec(f"{name} {tag}", channel=channel, lang=lang)
        )
        for name, channel, lang in [
            ("fr-all", "all", "fr"),
            ("fr-domestic", "domestic", "fr"),
            ("fr-sexual", "sexual", "fr"),
            ("en-all", "all", "en"),
            ("en-domestic", "domestic", "en"),
        ]
    }
    french = await converse(officer_paris, channel="domestic", lang="fr")
    offered = await actions.replies_for(rt, staff=identity(officer_paris), conversation_id=french)
    titles = {r["title"] for r in offered if str(r["title"]).endswith(tag)}
    assert titles == {f"fr-all {tag}", f"fr-domestic {tag}"}
    item = next(r for r in offered if r["id"] == made["fr-all"].id)
    assert item == {"id": made["fr-all"].id, "title": f"fr-all {tag}", "body": made["fr-all"].body}

    english = await converse(officer_paris, channel="domestic", lang="en")
    offered = await actions.replies_for(rt, staff=identity(officer_paris), conversation_id=english)
    assert {r["title"] for r in offered if str(r["title"]).endswith(tag)} == {
        f"en-all {tag}",
        f"en-domestic {tag}",
    }

    # Not in charge: refused; a supervisor (who may read every conversation) may look.
    with pytest.raises(PermissionDenied):
        await actions.replies_for(rt, staff=identity(officer_national), conversation_id=french)
    with pytest.raises(PermissionDenied):
        await actions.replies_for(rt, staff=identity(admin), conversation_id=french)
    assert await actions.replies_for(rt, staff=manager, conversation_id=french)


def test_guidance_cards_follow_the_chat_type() -> None:
    ids = {channel: [c.id for c in guidance.cards_for(channel)] for channel in Channel}
    assert ids["domestic"] == ["complaint", "bring", "rights", "protection"]
    assert ids["sexual"] == ["complaint", "bring", "rights", "protection", "evidence_care"]
    assert ids["discrimination"] == ["complaint", "bring", "rights", "discrimination"]
    assert guidance.card_for("evidence_care", "domestic") is None
    assert guidance.card_for("no-such-card", "domestic") is None
    card = guidance.card_for("protection", "domestic")
    assert card is not None
    protection = guidance.render(card, "en")
    assert protection["title"] == "Protecting yourself"
    assert "ordonnance de protection" in json.dumps(protection)
    numbers = [(p["number"], p["sms"]) for p in protection["phones"]]
    assert numbers == [("17", False), ("114", True), ("3919", False), ("115", False)]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_card_fits_in_a_message_once_translated(lang: str) -> None:
    translate = translations(lang).gettext
    for card in guidance.CARDS:
        rendered = guidance.render(card, lang)
        body = json.dumps(rendered, ensure_ascii=False, separators=(",", ":"))
        assert len(body) <= 4000, (card.id, lang, len(body))
        assert rendered["title"] == translate(card.title)


async def test_the_officer_in_charge_sends_a_guidance_card_in_the_visitor_language(
    rt: Runtime, converse: Converse, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation_id = await converse(officer_paris, channel="sexual", lang="en")
    cards = await actions.guidance_for(
        rt, staff=identity(officer_paris), conversation_id=conversation_id, lang="en"
    )
    assert [c["id"] for c in cards][-1] == "evidence_care"
    client_id = str(uuid.uuid4())
    officer = identity(officer_paris)
    sent = await actions.send_guidance(
        rt,
        staff=officer,
        conversation_id=conversation_id,
        card_id="evidence_care",
        client_id=client_id,
    )
    assert sent.kind == "guidance"
    body = json.loads(sent.body)
    assert body["id"] == "evidence_care"
    assert body["lang"] == "en"
    assert body["title"] == "Evidence and care"
    assert body["version"] == guidance.GUIDANCE_VERSION
    again = await actions.send_guidance(
        rt,
        staff=officer,
        conversation_id=conversation_id,
        card_id="evidence_care",
        client_id=client_id,
    )
    assert again.seq == sent.seq
    async with rt.reading() as session:
        stored = await messages_after(session, rt.keyring, conversation_id, 0)
        raw = list(
            await session.scalars(select(Message).where(Message.conversation_id == conversation_id))
        )
    assert [m.kind for m in stored].count("guidance") == 1
    assert all(b"Evidence" not in bytes(m.ciphertext) for m in raw), "stored encrypted"
    sent_audit = [
        d for d in await audit_details(rt, "guidance.sent") if d == {"card": "evidence_care"}
    ]
    assert sent_audit, "audited with the card's id only"

    with pytest.raises(GuidanceNotFound):
        await actions.send_guidance(
            rt, staff=officer, conversation_id=conversation_id, card_id="discrimination"
        )
    with pytest.raises(PermissionDenied):
        await actions.send_guidance(
            rt,
            staff=identity(officer_national),
            conversation_id=conversation_id,
            card_id="complaint",
        )
