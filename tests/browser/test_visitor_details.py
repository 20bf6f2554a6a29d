"""Details of the visitor's screens a person relies on: emergency numbers on every step, safety
advice for the chosen chat, the officer's typing shown, messages announced, nothing in the URL."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.pages import (
    PHONE,
    new_context,
    open_start_step,
    start_conversation,
    submit_postcode,
)
from tests.clients import officer_takes
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

EMERGENCY = {"tel:17", "tel:112", "sms:114", "tel:3919", "tel:119"}


async def emergency_links(page: Page) -> set[str]:
    strip = page.locator("aside.emergency")
    await expect(strip).to_be_visible()
    return {await link.get_attribute("href") or "" for link in await strip.locator("a").all()}


async def test_emergency_numbers_on_every_step(chromium: Browser, live_server: LiveServer) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/")
    assert await emergency_links(page) == EMERGENCY
    await page.locator('button.channel[data-channel="discrimination"]').click()
    assert await emergency_links(page) == EMERGENCY
    await submit_postcode(page, "31000")
    await expect(page.locator("#step-chat")).to_be_visible()
    assert await emergency_links(page) == EMERGENCY
    await context.close()


@pytest.mark.parametrize("channel", ["domestic", "sexual", "discrimination"])
async def test_waiting_room_gives_advice_for_the_chosen_chat(
    chromium: Browser, live_server: LiveServer, channel: str
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await open_start_step(page, live_server, channel)
    await submit_postcode(page, "13001")
    await expect(page.locator("#waiting")).to_be_visible()
    await expect(page.locator(f'.advice[data-channel="{channel}"]')).to_be_visible()
    await expect(page.locator(".advice:visible")).to_have_count(1)
    await context.close()


async def test_officer_typing_and_messages_are_announced(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, strings = await start_conversation(page, live_server)
    log = page.locator("#messages-log")
    # New messages are read out by screen readers without taking the focus; the list itself
    # keeps its list semantics (a role on the <ol> would orphan its items).
    assert await log.get_attribute("role") == "log"
    assert await log.get_attribute("aria-live") == "polite"
    assert await log.locator("> ol#messages").count() == 1
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await officer.send({"type": "typing", "conversation_id": conversation_id})
    await expect(page.locator("#typing")).to_have_text(strings["typing.staff"])
    await officer.close()
    await context.close()


async def test_nothing_about_the_conversation_in_the_url(
    chromium: Browser, live_server: LiveServer
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    urls: list[str] = []
    page.on("framenavigated", lambda frame: urls.append(frame.url))
    conversation_id, _ = await start_conversation(page, live_server)
    state = await page.evaluate("() => sessionStorage.getItem('confide')")
    assert state
    token = json.loads(state)["token"]
    for url in [*urls, page.url]:
        assert conversation_id not in url
        assert token not in url
        assert "75011" not in url
    await context.close()


async def test_after_the_end_the_visitor_can_start_again_with_a_clean_slate(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, _ = await start_conversation(page, live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await officer.send(
        {
            "type": "close",
            "conversation_id": conversation_id,
            "qualification": {"channel": "domestic", "offence": "no", "outcomes": ["information"]},
        }
    )
    await expect(page.locator("#ended")).to_be_visible()
    await expect(page.locator("#ended")).to_be_focused()
    await expect(page.locator("#notify")).to_be_hidden()
    await expect(page.locator("aside.emergency")).to_be_visible()
    await page.locator("#new-conversation").click()
    await expect(page.locator("#step-home")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.length") == 0
    await officer.close()
    await context.close()
