"""A warm hand-off in real browsers: an officer asks for a psychologist and stays as a silent
observer; a psychologist reads the history, accepts and writes; the visitor is told."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from confide.routing.models import OfficerState
from confide.runtime import Runtime
from tests.browser.pages import (
    DESKTOP,
    PHONE,
    eventually,
    new_context,
    open_more_actions,
    page_strings,
    shoot,
    staff_chat,
    staff_chat_bodies,
    staff_login,
    staff_sends,
    start_conversation,
    take_conversation,
    visitor_sends,
)
from tests.conftest import LiveServer, Persona
from tests.handoff.support import (
    audit_actions,
    clean,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean")]


async def _available(rt: Runtime, persona: Persona) -> bool:
    async with rt.reading() as session:
        state = await session.get(OfficerState, persona.id, populate_existing=True)
        return state is not None and state.availability == "available" and state.connections > 0


async def test_officer_hands_off_to_a_psychologist_and_stays_as_observer(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    psychologist: Persona,
) -> None:
    visitor_context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    officer_context = await new_context(chromium, DESKTOP)
    psy_context = await new_context(chromium, PHONE)
    try:
        visitor = await visitor_context.new_page()
        officer = await officer_context.new_page()
        psy = await psy_context.new_page()
        conversation_id, strings = await start_conversation(visitor, live_server)

        await staff_login(officer, live_server, officer_paris)
        staff_strings = await page_strings(officer)
        await take_conversation(officer, conversation_id)
        first = "J'ai besoin de parler à quelqu'un, je n'arrive plus à dormir."
        await visitor_sends(visitor, first)
        await expect(staff_chat_bodies(officer, conversation_id)).to_have_text([first])

        # The psychologist is on duty (console open, available).
        await staff_login(psy, live_server, psychologist)
        await expect(psy.locator(".handoff-requests")).to_be_visible()
        await psy.locator("#availability").select_option("available")
        await eventually(lambda: _available(rt, psychologist), "the psychologist available")

        # The officer asks, with a note, and chooses to stay.
        chat = staff_chat(officer, conversation_id)
        await open_more_actions(chat)
        await chat.locator("button.handoff-request").click()
        dialog = officer.locator("dialog.handoff-dialog")
        await expect(dialog).to_be_visible()
        note = "Crises d'angoisse, souhaite parler à un psychologue."
        await dialog.get_by_label(staff_strings["handoff.note"]).fill(note)
        await dialog.get_by_label(staff_strings["handoff.stay"]).check()
        await dialog.locator("#handoff-submit").click()
        await expect(chat.locator(".handoff-status")).to_have_text(staff_strings["handoff.pending"])

        # The psychologist sees the request and its note, and reads the history (audited).
        request = psy.locator(f'.handoff-requests li[data-conversation-id="{conversation_id}"]')
        await expect(request).to_be_visible()
        await expect(request.locator(".handoff-note")).to_contain_text(note)
        await shoot(psy, "handoff-request", "phone")
        await request.locator("button.handoff-read").click()
        psy_chat = staff_chat(psy, conversation_id)
        await expect(staff_chat_bodies(psy, conversation_id)).to_have_text([first])
        await expect(psy_chat.locator(".composer")).to_be_hidden()
        assert "conversation.read" in await audit_actions(rt, conversation_id, actor=psychologist)

        await request.locator("button.handoff-accept").click()
        await expect(psy_chat.locator(".composer")).to_be_visible()
        await expect(request).to_have_count(0)

        # The visitor is told, and continues with the psychologist.
        await expect(visitor.locator("#messages li.system").last).to_have_text(
            strings["system.transferred_psychologist"]
        )
        reply = "Bonjour, je suis psychologue. Je suis là pour vous écouter."
        await staff_sends(psy, conversation_id, reply)
        await expect(visitor.locator("#messages li.from-psychologist .body")).to_have_text([reply])
        assert note not in (await visitor.locator("#messages").inner_text())

        # The officer follows in observer mode: the message arrives, no composer.
        await expect(staff_chat_bodies(officer, conversation_id)).to_have_text([first, reply])
        await expect(chat.locator(".composer")).to_be_hidden()
        await expect(chat.locator("button.observer-leave")).to_be_visible()
        await expect(chat.locator(".handoff-status")).to_have_text(
            staff_strings["handoff.accepted_observer"]
        )
        await shoot(officer, "handoff-observer", "desktop")
        second = "Merci, ça me rassure."
        await visitor_sends(visitor, second)
        await expect(staff_chat_bodies(officer, conversation_id)).to_have_text(
            [first, reply, second]
        )
    finally:
        await visitor_context.close()
        await officer_context.close()
        await psy_context.close()
