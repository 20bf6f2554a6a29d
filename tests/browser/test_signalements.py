"""An officer writes a signalement from the console: the form opens in a new tab, a missing
unit is shown with what was typed kept, the fixed form saves, the console lists it, and the
printable export shows the facts with a print button."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.pages import (
    DESKTOP,
    PHONE,
    new_context,
    open_more_actions,
    page_strings,
    staff_chat,
    staff_login,
    take_conversation,
)
from tests.clients import start_conversation
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

FACTS = "Violences répétées du conjoint ; la personne a peur de rentrer ce soir."


async def test_officer_writes_a_signalement_from_the_console_and_opens_the_export(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    context = await new_context(chromium, DESKTOP)
    console = await context.new_page()
    await staff_login(console, live_server, officer_paris)
    strings = await page_strings(console)
    await take_conversation(console, conversation_id)
    chat = staff_chat(console, conversation_id)
    link = chat.locator(".chat-tools a.signalement-link")
    await expect(link).to_have_text(strings["signalement.open"])
    await expect(chat.locator(".signalements-panel")).to_be_hidden()

    await open_more_actions(chat)
    async with context.expect_page() as opened:
        await link.click()
    form = await opened.value
    await form.set_viewport_size(PHONE)
    await expect(form).to_have_url(
        re.compile(rf"/staff/conversations/{conversation_id}/signalements/new\?lang=fr$")
    )
    await form.locator("#facts").fill(FACTS)
    await form.locator('input[name="urgency"][value="immediate"]').check()
    await form.locator("#agreed-contact").check()
    await form.locator("button.save").click()

    # The unit is missing: said next to the field, and the rest is kept.
    await expect(form.locator("#unit-error")).to_be_visible()
    await expect(form.locator("#unit-name")).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#form-error")).to_be_visible()
    await expect(form.locator("#facts")).to_have_value(FACTS)
    await expect(form.locator('input[name="urgency"][value="immediate"]')).to_be_checked()
    await expect(form.locator("#agreed-contact")).to_be_checked()

    await form.locator("#unit-name").fill("Brigade de protection de la famille de Paris")
    await form.locator("button.save").click()
    await expect(form.locator(".signalement-saved")).to_be_visible()
    await expect(form.locator("#unit-error")).to_have_count(0)

    # The console hears of it and lists it, with a link to the export.
    item = chat.locator(".signalements-panel li.signalement-item")
    await expect(item).to_have_count(1)
    await expect(item.locator("a.signalement-export")).to_have_text(
        "Brigade de protection de la famille de Paris"
    )
    await expect(item.locator(".urgency")).to_have_text(strings["signalement.urgency.immediate"])

    async with context.expect_page() as exported:
        await form.locator("a.export-html").click()
    export = await exported.value
    await expect(export.locator(".facts")).to_have_text(FACTS)
    await expect(export.locator(".unit")).to_have_text(
        "Brigade de protection de la famille de Paris"
    )
    await expect(export.locator(".conversation-id")).to_have_text(conversation_id)
    await expect(export.locator(".reference")).to_have_text(re.compile(r"^SIG-[0-9]{4}-[0-9]{6}$"))
    # The print button is shown by the page's own script (no inline script under the CSP).
    await expect(export.locator("#print")).to_be_visible()
    await context.close()
