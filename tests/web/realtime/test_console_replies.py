"""The console's replies frames over real sockets: canned replies offered in a conversation
(choosing one sends nothing), and guidance cards sent as `guidance` messages that the visitor
receives, once per client_id."""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy import select

from confide.conversations.models import Conversation, Message
from confide.i18n import translations
from confide.replies import actions as reply_actions
from confide.replies.guidance import GUIDANCE_VERSION
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.clients import officer_takes, staff_login, staff_socket, visitor_socket
from tests.conftest import LiveServer, Persona


async def start_in(server: LiveServer, *, channel: str, lang: str) -> tuple[str, str]:
    """A conversation whose visitor writes in `lang` (the shared helper starts English ones)."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/conversations",
            json={"channel": channel, "role": "victim", "postcode": "75011", "lang": lang},
        )
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], data["token"]


async def add_reply(rt: Runtime, manager: Persona, title: str, channel: str, lang: str) -> int:
    actor = StaffIdentity(manager.id, manager.username, manager.username, manager.role, 0, "")
    spec = reply_actions.check_reply(
        title=title, body=f"{title}: texte de la réponse", channel=channel, lang=lang
    )
    return (await reply_actions.save_reply(rt, actor=actor, spec=spec)).id


async def last_seq(rt: Runtime, conversation_id: str) -> int:
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        return conversation.last_seq


async def test_replies_of_the_conversation_chat_and_language_and_choosing_sends_nothing(
    rt: Runtime,
    live_server: LiveServer,
    officer_paris: Persona,
    officer_national: Persona,
    supervisor: Persona,
) -> None:
    tag = uuid.uuid4().hex[:6]
    french = await add_reply(rt, supervisor, f"Accueil {tag}", "all", "fr")
    sexual = await add_reply(rt, supervisor, f"Soins {tag}", "sexual", "fr")
    english = await add_reply(rt, supervisor, f"Greeting {tag}", "all", "en")
    conversation_id, token = await start_in(live_server, channel="domestic", lang="fr")
    visitor, _ = await visitor_socket(live_server, token)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await visitor.expect("assigned")
    await visitor.expect("message", author="system")
    seq = await last_seq(rt, conversation_id)

    await officer.send({"type": "replies", "conversation_id": conversation_id})
    frame = await officer.expect("replies", conversation_id=conversation_id)
    ids = {r["id"] for r in frame["replies"]}
    assert french in ids
    assert english not in ids, "an English reply is not offered in a French conversation"
    assert sexual not in ids, "nor one written for another chat"
    chosen = next(r for r in frame["replies"] if r["id"] == french)
    assert chosen == {
        "id": french,
        "title": f"Accueil {tag}",
        "body": f"Accueil {tag}: texte de la réponse",
    }
    # Looking at the replies sends nothing to the visitor and stores nothing.
    assert [f for f in await visitor.quiet(0.3) if f["type"] == "message"] == []
    assert await last_seq(rt, conversation_id) == seq

    # Someone else's conversation; a malformed frame.
    intruder, _ = await staff_socket(live_server, await staff_login(live_server, officer_national))
    await intruder.send({"type": "replies", "conversation_id": conversation_id})
    assert (await intruder.expect("error"))["code"] == "forbidden"
    await intruder.send({"type": "replies", "conversation_id": 42})
    assert (await intruder.expect("error"))["code"] == "bad_frame"
    await intruder.close()
    await officer.close()
    await visitor.close()


async def test_guidance_card_is_stored_as_guidance_and_reaches_the_visitor_once(
    rt: Runtime,
    live_server: LiveServer,
    officer_paris: Persona,
    officer_national: Persona,
    admin: Persona,
) -> None:
    conversation_id, token = await start_in(live_server, channel="discrimination", lang="fr")
    visitor, _ = await visitor_socket(live_server, token)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await visitor.expect("assigned")
    await visitor.expect("message", author="system")

    # The list is in the console's language (English here).
    await officer.send({"type": "guidance_list", "conversation_id": conversation_id})
    listing = await officer.expect("guidance_list", conversation_id=conversation_id)
    assert [c["id"] for c in listing["cards"]] == ["complaint", "bring", "rights", "discrimination"]
    assert listing["cards"][0]["title"] == "Filing a complaint"
    assert all(c["lang"] == "en" for c in listing["cards"])

    client_id = str(uuid.uuid4())
    frame = {
        "type": "send_guidance",
        "conversation_id": conversation_id,
        "card_id": "discrimination",
        "client_id": client_id,
    }
    await officer.send(frame)
    ack = await officer.expect("ack", client_id=client_id)
    card = await visitor.expect("message", seq=ack["seq"])
    assert card["kind"] == "guidance"
    assert card["author"] == "officer"
    body = json.loads(card["body"])
    # Rendered in the conversation's language (the visitor's), not the console's.
    french = translations("fr").gettext
    assert body["lang"] == "fr"
    assert body["version"] == GUIDANCE_VERSION
    assert body["title"] == french("Discrimination and harassment")
    assert {"number": "39 28", "sms": False}.items() <= body["phones"][0].items()
    # The officer's console follows the conversation and sees the card too.
    assert (await officer.expect("message", seq=ack["seq"]))["kind"] == "guidance"

    # A resend after a lost ack stores nothing new and the visitor sees nothing more.
    await officer.send(frame)
    assert (await officer.expect("ack", client_id=client_id))["seq"] == ack["seq"]
    assert [f for f in await visitor.quiet(0.3) if f["type"] == "message"] == []
    async with rt.reading() as session:
        stored = list(
            await session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.kind == "guidance"
                )
            )
        )
    assert len(stored) == 1
    assert b"39 28" not in bytes(stored[0].ciphertext)

    # Mistakes and people not in charge are told.
    await officer.send({**frame, "card_id": "evidence_care", "client_id": str(uuid.uuid4())})
    assert (await officer.expect("error"))["code"] == "guidance_not_found"
    await officer.send({**frame, "card_id": 7})
    assert (await officer.expect("error"))["code"] == "bad_frame"
    intruder, _ = await staff_socket(live_server, await staff_login(live_server, officer_national))
    await intruder.send({**frame, "client_id": str(uuid.uuid4())})
    assert (await intruder.expect("error"))["code"] == "forbidden"
    await intruder.close()
    administrator, _ = await staff_socket(live_server, await staff_login(live_server, admin))
    await administrator.send({"type": "guidance_list", "conversation_id": conversation_id})
    assert (await administrator.expect("error"))["code"] == "forbidden"
    await administrator.close()
    await officer.close()
    await visitor.close()
