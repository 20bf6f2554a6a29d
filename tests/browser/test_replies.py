"""Canned replies and guidance cards in the browsers: the officer inserts a reply with "/",
edits it and sends it; sends a guidance card, which the visitor sees with tap-to-call links."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, expect

from confide.replies import actions as reply_actions
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.browser.pages import (
    PHONE,
    axe_violations,
    new_context,
    page_strings,
    shoot,
    staff_chat,
    staff_login,
    start_conversation,
    take_conversation,
)
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

NARROW = {"width": 375, "height": 740}


async def test_officer_inserts_a_canned_reply_and_sends_a_guidance_card(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    supervisor: Persona,
    axe_source: str,
) -> None:
    tag = uuid.uuid4().hex[:6]
    manager = StaffIdentity(supervisor.id, supervisor.username, "", supervisor.role, 0, "")
    body = f"Êtes-vous en sécurité en ce moment ? Appelez le 17 ou écrivez au 114. ({tag})"
    for title, text, lang in [
        (f"Sécurité {tag}", body, "fr"),
        (f"Safety {tag}", "Are you safe right now?", "en"),
    ]:
        spec = reply_actions.check_reply(title=title, body=text, channel="all", lang=lang)
        await reply_actions.save_reply(rt, actor=manager, spec=spec)

    # The visitor (French page, so a French conversation); axe needs this context's CSP off.
    visitor_context = await new_context(chromium, PHONE, bypass_csp=True)
    visitor = await visitor_context.new_page()
    conversation_id, _ = await start_conversation(visitor, live_server)
    # The console at phone width (375 px): everything below must work there too.
    officer_context = await new_context(chromium, NARROW)
    officer = await officer_context.new_page()
    await staff_login(officer, live_server, officer_paris)
    strings = await page_strings(officer)
    await take_conversation(officer, conversation_id)
    chat = staff_chat(officer, conversation_id)
    composer = chat.locator(".composer textarea")
    picker = chat.locator(".replies-panel")

    # "/" then a few letters: the picker opens filtered, Enter inserts — and sends nothing.
    await composer.click()
    await composer.press_sequentially(f"/securite {tag}")
    await expect(picker).to_be_visible()
    await expect(picker.locator(".replies-hint")).to_have_text(strings["replies.hint"])
    options = picker.locator(".reply-option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text(f"Sécurité {tag}")
    await expect(options.first).to_have_class("reply-option active")
    await shoot(officer, "replies-picker", "phone")
    await composer.press("Enter")
    await expect(picker).to_be_hidden()
    await expect(composer).to_have_value(body)
    await expect(composer).to_be_focused()
    await expect(chat.locator("li.message.from-self")).to_have_count(0)
    await expect(visitor.locator("#messages li.message").filter(has_text=tag)).to_have_count(0)

    # Edited, then sent by the officer.
    await composer.press("End")
    await composer.press_sequentially(" Je reste avec vous.")
    await composer.press("Enter")
    sent = f"{body} Je reste avec vous."
    await expect(visitor.locator("#messages li.message .body").filter(has_text=tag)).to_have_text(
        sent
    )

    # Alt+R opens the picker on the filter box; Esc closes it and goes back to the composer.
    await composer.press("Alt+r")
    await expect(picker).to_be_visible()
    await expect(picker.locator(".replies-filter")).to_be_focused()
    await picker.locator(".replies-filter").fill(tag)
    await expect(options).to_have_count(1)
    await officer.keyboard.press("Escape")
    await expect(picker).to_be_hidden()
    await expect(composer).to_be_focused()
    await expect(composer).to_have_value("")

    # A guidance card, chosen from the previews and sent.
    await chat.locator("button.guidance-open").click()
    choices = chat.locator(".guidance-panel .guidance-choice")
    await expect(choices).to_have_count(4)
    protection = chat.locator('.guidance-send[data-card-id="protection"]')
    await protection.locator("xpath=..").locator("summary").click()
    await expect(protection.locator("xpath=..").locator(".guidance-card")).to_be_visible()
    await shoot(officer, "guidance-chooser", "phone")
    await protection.click()
    await expect(chat.locator(".guidance-panel")).to_be_hidden()
    await expect(chat.locator(".messages .guidance-card")).to_have_count(1)

    card = visitor.locator("#messages .guidance-card")
    await expect(card).to_have_count(1)
    await expect(card.locator(".guidance-title")).not_to_be_empty()
    await expect(card.locator('a.guidance-call[href="tel:17"]')).to_be_visible()
    await expect(card.locator('a.guidance-call[href="tel:3919"]')).to_be_visible()
    await expect(card.locator('a.guidance-sms[href="sms:114"]')).to_be_visible()
    await card.scroll_into_view_if_needed()
    await shoot(visitor, "guidance-card", "phone")
    # Readable at phone width: nothing wider than the screen.
    assert await visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    serious = [
        v
        for v in await axe_violations(visitor, axe_source)
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    # A body that does not parse is shown as text; markup in a card is never interpreted.
    shown = await visitor.evaluate(
        """async () => {
            const { guidanceCard } = await import("/static/guidance.js");
            const broken = guidanceCard({}, "{not json");
            const card = guidanceCard({ "guidance.label": "G" }, JSON.stringify({
                title: "<img src=x>", sections: [{ heading: "<b>h</b>", items: ["<i>x</i>"] }],
                phones: [{ label: "L", number: "javascript:alert(1)" }],
            }));
            return [broken.textContent, card.querySelectorAll("img, i").length,
                    card.querySelector(".guidance-heading").textContent,
                    card.querySelector(".guidance-title").textContent,
                    [...card.querySelectorAll("a")].map((a) => a.getAttribute("href"))];
        }"""
    )
    assert shown == ["{not json", 0, "<b>h</b>", "<img src=x>", ["tel:1"]]
    await officer_context.close()
    await visitor_context.close()
