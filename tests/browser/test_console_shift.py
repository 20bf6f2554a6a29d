"""An officer's shift in real browsers (issue 5): two visitors at once; a canned reply and a
resource card; one conversation handed to a psychologist who continues it; the other closed
with a qualification."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from confide.casework.models import ConversationOutcome
from confide.referrals import actions as referral_actions
from confide.replies import actions as reply_actions
from confide.routing.models import OfficerState
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.browser.pages import (
    DESKTOP,
    PHONE,
    close_from_console,
    eventually,
    new_context,
    open_more_actions,
    page_strings,
    staff_chat,
    staff_chat_bodies,
    staff_login,
    staff_sends,
    start_conversation,
    take_conversation,
    visitor_sends,
)
from tests.conftest import LiveServer, Persona
from tests.handoff.support import clean  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean")]

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"


async def _available(rt: Runtime, persona: Persona) -> bool:
    async with rt.reading() as session:
        state = await session.get(OfficerState, persona.id, populate_existing=True)
        return state is not None and state.availability == "available" and state.connections > 0


async def _outcome(rt: Runtime, conversation_id: str) -> ConversationOutcome | None:
    async with rt.reading() as session:
        return await session.scalar(
            select(ConversationOutcome)
            .where(ConversationOutcome.conversation_id == conversation_id)
            .execution_options(populate_existing=True)
        )


async def test_an_officer_handles_two_visitors_hands_one_off_and_closes_the_other(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    psychologist: Persona,
    supervisor: Persona,
) -> None:
    await referral_actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    tag = uuid.uuid4().hex[:6]
    canned = f"Vous avez bien fait d'écrire. Êtes-vous en sécurité en ce moment ? ({tag})"
    manager = StaffIdentity(supervisor.id, supervisor.username, "", supervisor.role, 0, "")
    await reply_actions.save_reply(
        rt,
        actor=manager,
        spec=reply_actions.check_reply(
            title=f"Accueil {tag}", body=canned, channel="all", lang="fr"
        ),
    )

    contexts = [
        await new_context(chromium, PHONE, is_mobile=True, has_touch=True),
        await new_context(chromium, PHONE, is_mobile=True, has_touch=True),
        await new_context(chromium, DESKTOP),
        await new_context(chromium, DESKTOP),
    ]
    try:
        anna, brice, officer, psy = [await context.new_page() for context in contexts]
        anna_id, strings = await start_conversation(anna, live_server, postcode="75011")
        brice_id, _ = await start_conversation(brice, live_server, postcode="75018")

        await staff_login(officer, live_server, officer_paris)
        staff_strings = await page_strings(officer)
        await take_conversation(officer, anna_id)
        await take_conversation(officer, brice_id)
        await expect(officer.locator(".tab")).to_have_count(2)

        # Both visitors write; each message lands in its own chat.
        await visitor_sends(anna, "Mon compagnon m'a frappée hier soir.")
        await visitor_sends(brice, "J'entends des cris chez ma voisine toutes les nuits.")
        await expect(staff_chat_bodies(officer, brice_id)).to_have_text(
            ["J'entends des cris chez ma voisine toutes les nuits."]
        )
        await officer.locator(f'.tab[data-conversation-id="{anna_id}"]').click()
        await expect(staff_chat_bodies(officer, anna_id)).to_have_text(
            ["Mon compagnon m'a frappée hier soir."]
        )

        # A canned reply for Anna: inserted with "/", sent as the officer's own message.
        anna_chat = staff_chat(officer, anna_id)
        composer = anna_chat.locator(".composer textarea")
        await composer.click()
        await composer.press_sequentially(f"/{tag}")
        await expect(anna_chat.locator(".replies-panel .reply-option")).to_have_count(1)
        await composer.press("Enter")
        await expect(composer).to_have_value(canned)
        await composer.press("Enter")
        await expect(anna.locator("#messages li.from-officer .body")).to_have_text([canned])

        # A resource card for Anna: the national line 3919, with a tap-to-call link.
        await anna_chat.locator("button.referrals-chat").click()
        line = anna_chat.locator(".referrals li").filter(has_text="3919").first
        await line.locator("button").click()
        card = anna.locator("#messages .referral-card")
        await expect(card.locator("a.referral-call")).to_have_attribute("href", "tel:3919")

        # Brice's conversation goes to a psychologist, warmly: note, acceptance, continuation.
        await staff_login(psy, live_server, psychologist)
        await psy.locator("#availability").select_option("available")
        await eventually(lambda: _available(rt, psychologist), "the psychologist available")
        await officer.keyboard.press("Alt+2")
        brice_chat = staff_chat(officer, brice_id)
        await expect(brice_chat).to_be_visible()
        await open_more_actions(brice_chat)
        await brice_chat.locator("button.handoff-request").click()
        dialog = officer.locator("dialog.handoff-dialog")
        note = "Témoin très éprouvé, souhaite parler à quelqu'un."
        await dialog.get_by_label(staff_strings["handoff.note"]).fill(note)
        await dialog.locator("#handoff-submit").click()
        request = psy.locator(f'.handoff-requests li[data-conversation-id="{brice_id}"]')
        await expect(request.locator(".handoff-note")).to_contain_text(note)
        await request.locator("button.handoff-accept").click()
        psy_reply = "Bonjour, je suis psychologue. Qu'avez-vous ressenti en entendant cela ?"
        # Brice sees who is writing now.
        await staff_chat(psy, brice_id).locator(".composer textarea").press_sequentially("Bon")
        await expect(brice.locator("#typing")).to_have_text(strings["typing.psychologist"])
        await staff_sends(psy, brice_id, psy_reply)
        await expect(brice.locator("#messages li.system").last).to_have_text(
            strings["system.transferred_psychologist"]
        )
        await expect(brice.locator("#messages li.from-psychologist .body")).to_have_text(
            [psy_reply]
        )
        await visitor_sends(brice, "De la peur, surtout.")
        await expect(staff_chat_bodies(psy, brice_id)).to_contain_text(["De la peur, surtout."])
        # The officer did not stay: the chat is no longer theirs to write in.
        await expect(brice_chat.locator(".composer")).to_be_hidden()

        # Anna's conversation is closed with a qualification.
        await officer.locator(f'.tab[data-conversation-id="{anna_id}"]').click()
        await close_from_console(
            officer,
            anna_id,
            staff_strings,
            channel="domestic",
            offence="yes",
            outcomes=("information", "referral"),
        )
        await expect(anna.locator("#ended")).to_be_visible()
        outcome = await _outcome(rt, anna_id)
        assert outcome is not None
        assert (outcome.channel, outcome.offence) == ("domestic", "yes")
        assert outcome.referral
        assert outcome.information
        assert not outcome.handoff
    finally:
        for context in contexts:
            await context.close()
