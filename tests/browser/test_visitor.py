"""The visitor's side in a real browser: leaving without a trace, resilience, accessibility
(axe-core, keyboard, small screens), page weight and the neutral-title option."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, expect

from confide.conversations.models import Conversation
from confide.disclosure import queries as disclosure_queries
from confide.runtime import Runtime
from confide.settings import Settings
from tests.browser.pages import (
    DESKTOP,
    EXIT_URL,
    PHONE,
    axe_violations,
    conversation_status,
    eventually,
    expect_waiting_chat,
    new_context,
    open_start_step,
    page_strings,
    start_conversation,
    stored_state,
    submit_postcode,
    visitor_sends,
)
from tests.clients import officer_takes, send_text
from tests.conftest import LiveServer, Persona, start_server

pytestmark = pytest.mark.browser


async def fake_exit_site(page: Page) -> None:
    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<title>Météo</title>météo")

    await page.context.route(f"{EXIT_URL}**", fulfil)


async def token_digest(rt: Runtime, conversation_id: str) -> str | None:
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        return conversation.token_digest


# ---- leave without a trace ------------------------------------------------------------------


@pytest.mark.parametrize("gesture", ["button", "three-shifts"])
async def test_quick_exit_hides_wipes_tells_the_server_and_leaves(
    chromium: Browser, live_server: LiveServer, rt: Runtime, gesture: str
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await fake_exit_site(page)
    conversation_id, _ = await start_conversation(page, live_server)
    if gesture == "button":
        await page.locator("#quick-exit").click()
    else:
        for _ in range(3):
            await page.keyboard.press("Shift")
    await expect(page).to_have_url(EXIT_URL)
    assert await page.evaluate("() => sessionStorage.length") == 0
    await eventually(
        lambda: _status_is(rt, conversation_id, "abandoned"),
        "the beacon to abandon the conversation",
    )
    # Back: quick exit replaced the chat's history entry, so the chat is not shown again.
    await page.go_back()
    await page.wait_for_load_state()
    await expect(page.locator("#step-chat:visible")).to_have_count(0)
    await expect(page.locator("#messages li")).to_have_count(0)
    await context.close()


async def _status_is(rt: Runtime, conversation_id: str, status: str) -> bool:
    return await conversation_status(rt, conversation_id) == status


async def test_two_shift_presses_do_not_exit(chromium: Browser, live_server: LiveServer) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/")
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.wait_for_timeout(300)
    await expect(page.locator("#step-home")).to_be_visible()
    assert page.url.startswith(live_server.url)
    await context.close()


async def test_erase_after_confirmation_unlinks_and_wipes(
    chromium: Browser, live_server: LiveServer, rt: Runtime
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, _ = await start_conversation(page, live_server)
    await visitor_sends(page, "Message à effacer")
    # Cancelling keeps everything.
    await page.locator("#erase").click()
    await expect(page.locator("#erase-dialog")).to_be_visible()
    await page.locator("#erase-cancel").click()
    await expect(page.locator("#erase-dialog")).to_be_hidden()
    assert await stored_state(page) is not None
    # Confirming erases.
    await page.locator("#erase").click()
    await page.locator("#erase-confirm").click()
    await expect(page.locator("#step-erased")).to_be_visible()
    await expect(page.locator("#step-erased .guide li")).to_have_count(3)
    assert await page.evaluate("() => sessionStorage.length") == 0
    assert await page.locator("#messages li").count() == 0
    await eventually(lambda: _unlinked(rt, conversation_id), "the token to be unlinked")
    await page.reload()
    await expect(page.locator("#step-home")).to_be_visible()
    await context.close()


async def _unlinked(rt: Runtime, conversation_id: str) -> bool:
    return await token_digest(rt, conversation_id) is None


async def test_new_message_alerts_are_off_unless_turned_on(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, _ = await start_conversation(page, live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    title = await page.title()
    # The visitor switched to another tab.
    await page.evaluate(
        "() => Object.defineProperty(document, 'hidden', { get: () => true, configurable: true })"
    )
    await send_text(officer, "Premier message", conversation_id=conversation_id)
    await expect(page.locator("#messages li").filter(has_text="Premier message")).to_have_count(1)
    assert not await page.locator("#notify").is_checked()
    assert await page.title() == title
    await page.locator("#notify").check()
    await send_text(officer, "Deuxième message", conversation_id=conversation_id)
    await expect(page).to_have_title(f"(1) {title}")
    # Back on the tab: the title is plain again.
    await page.evaluate(
        "() => { Object.defineProperty(document, 'hidden', { get: () => false, configurable: true });"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    await expect(page).to_have_title(title)
    await officer.close()
    await context.close()


# ---- resilience -----------------------------------------------------------------------------


async def test_messages_typed_offline_are_sent_once_when_back(
    chromium: Browser, live_server: LiveServer, rt: Runtime
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, _strings = await start_conversation(page, live_server)
    await context.set_offline(True)
    await expect(page.locator("#connection")).not_to_have_attribute("data-state", "connected")
    for body in ("écrit hors ligne 1", "écrit hors ligne 2"):
        await page.locator("#body").fill(body)
        await page.locator("#body").press("Enter")
        mine = page.locator("#messages li.from-visitor").filter(has_text=body)
        await expect(mine.locator(".delivery")).to_have_attribute("data-state", "sending")
    await context.set_offline(False)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    for body in ("écrit hors ligne 1", "écrit hors ligne 2"):
        mine = page.locator("#messages li.from-visitor").filter(has_text=body)
        await expect(mine.locator(".delivery")).to_have_attribute("data-state", "sent")
    assert (await stored_state(page) or {}).get("pending") == []
    # Exactly once each on the server, and once each after a reload.
    bodies = await _bodies(rt, conversation_id)
    assert bodies == ["écrit hors ligne 1", "écrit hors ligne 2"]
    await page.reload()
    await expect(page.locator("#messages li.from-visitor")).to_have_count(2)
    await context.close()


async def _bodies(rt: Runtime, conversation_id: str) -> list[str]:
    from confide.conversations import queries

    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
    return [m.body for m in messages if m.author == "visitor"]


async def test_language_can_be_switched_during_the_chat(
    chromium: Browser, live_server: LiveServer
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await start_conversation(page, live_server)
    await visitor_sends(page, "Bonjour")
    await page.locator("#lang-switch").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#quick-exit")).to_have_text("Quick exit")
    await expect(page.locator("#step-chat")).to_be_visible()
    await expect(page.locator("#messages li.from-visitor")).to_have_count(1)
    await expect(page.locator("#connection")).to_have_text("Connected")
    await context.close()


# ---- accessibility ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_every_visitor_step_has_no_axe_violation(
    chromium: Browser, live_server: LiveServer, axe_source: str, lang: str, viewport: dict[str, int]
) -> None:
    # axe is injected as a script: this context alone bypasses the page's CSP to allow it.
    context = await new_context(chromium, viewport, bypass_csp=True)
    page = await context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(step: str) -> None:
        found[step] = await axe_violations(page, axe_source)

    await page.goto(f"{live_server.url}/?lang={lang}")
    await check("home")
    await page.locator('button.channel[data-channel="sexual"]').click()
    await check("start")
    await submit_postcode(page, "12")
    await expect(page.locator("#postcode-error")).to_be_visible()
    await check("start-error")
    await submit_postcode(page, "33000")
    await expect(page.locator("#step-chat")).to_be_visible()
    await expect(page.locator("#queue-position")).not_to_be_empty()
    await check("waiting")
    await page.locator("#identity-tools summary").click()
    await expect(page.locator("#identity-name")).to_be_visible()
    await check("identity-form")
    await page.locator("#erase").click()
    await check("erase-dialog")
    await page.locator("#erase-confirm").click()
    await expect(page.locator("#step-erased")).to_be_visible()
    await check("erased")
    await page.goto(f"{live_server.url}/staff/login?lang={lang}")
    await check("staff-login")
    await context.close()
    print(
        f"axe-core {lang} {viewport['width']}px:", json.dumps({k: len(v) for k, v in found.items()})
    )
    assert {k: v for k, v in found.items() if v} == {}


async def test_whole_journey_works_with_the_keyboard_only(
    chromium: Browser, live_server: LiveServer
) -> None:
    context = await new_context(chromium, DESKTOP)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/")
    strings = await page_strings(page)
    # Tab from the top of the page to the first chat button, then Enter.
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.dataset.channel === 'domestic'"):
            break
    else:
        raise AssertionError("the chats cannot be reached with Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#postcode")).to_be_focused()
    await page.keyboard.type("75011")
    await page.keyboard.press("Enter")
    await expect_waiting_chat(page, strings)
    await expect(page.locator("#body")).to_be_focused()
    await page.keyboard.type("Écrit au clavier")
    await page.keyboard.press("Enter")
    mine = page.locator("#messages li.from-visitor").filter(has_text="Écrit au clavier")
    await expect(mine.locator(".delivery")).to_have_attribute("data-state", "sent")
    # The erase dialog opens, is cancelled with Escape without triggering quick exit.
    await page.locator("#erase").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#erase-dialog")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.locator("#erase-dialog")).to_be_hidden()
    assert page.url.startswith(live_server.url)
    await context.close()


@pytest.mark.parametrize(
    ("name", "viewport"),
    [
        ("small phone", {"width": 360, "height": 640}),
        ("keyboard open", {"width": 360, "height": 330}),
        ("200% zoom", {"width": 640, "height": 400}),
    ],
)
async def test_usable_on_small_screens(
    chromium: Browser, live_server: LiveServer, name: str, viewport: dict[str, int]
) -> None:
    context = await new_context(chromium, viewport)
    page = await context.new_page()
    await start_conversation(page, live_server)
    await visitor_sends(page, "Petit écran")
    for selector in ("#quick-exit", "#body", "#send"):
        await page.locator(selector).scroll_into_view_if_needed()
        box = await page.locator(selector).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"] + 0.5, (name, selector, box)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    # The quick exit stays on screen while the page is scrolled (sticky header).
    await page.mouse.wheel(0, 2000)
    exit_box = await page.locator("#quick-exit").bounding_box()
    assert exit_box is not None
    assert 0 <= exit_box["y"] < viewport["height"]
    await context.close()


# ---- weight and options ---------------------------------------------------------------------


async def test_page_weight_before_the_chat_opens_is_under_100_kb(
    chromium: Browser, live_server: LiveServer
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    sizes: dict[str, int] = {}

    async def record(response: Any) -> None:
        sizes[response.url] = len(await response.body())

    page.on("response", record)
    await open_start_step(page, live_server)
    await page.wait_for_load_state("networkidle")
    await context.close()
    total = sum(sizes.values())
    print(f"page weight before the chat: {total} bytes in {len(sizes)} responses: {sizes}")
    assert total < 100_000, sizes


@pytest.fixture(scope="module")
def neutral_server(migrated: Settings, data_dir: Path) -> Iterator[LiveServer]:
    settings = migrated.model_copy(update={"neutral_title": "Recettes faciles"})
    server = start_server(settings, data_dir / "server-neutral.log")
    yield server
    server.stop()


async def test_neutral_title_and_icon(chromium: Browser, neutral_server: LiveServer) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    await page.goto(f"{neutral_server.url}/")
    assert await page.title() == "Recettes faciles"
    await expect(page.locator(".brand")).to_have_text("Recettes faciles")
    icon = await page.request.get(f"{neutral_server.url}/favicon.ico")
    assert b"#9aa3ad" in await icon.body()
    assert not re.search(r"police|confide|violence", await page.title(), re.I)
    await context.close()


async def test_voluntary_identity_is_sent_on_request_cleared_from_the_page_and_withdrawable(
    chromium: Browser, live_server: LiveServer, rt: Runtime
) -> None:
    context = await new_context(chromium, PHONE)
    page = await context.new_page()
    conversation_id, strings = await start_conversation(page, live_server)
    tools = page.locator("#identity-tools")
    await expect(page.locator("#identity-name")).to_be_hidden()  # collapsed until asked for
    await tools.locator("summary").click()
    for field in ("name", "phone", "email", "address"):
        await expect(page.locator(f"#identity-{field}")).to_have_attribute("autocomplete", "off")
    await page.locator("#identity-send").click()
    await expect(page.locator("#identity-status")).to_have_text(strings["identity.empty"])
    await page.locator("#identity-name").fill("Camille")
    await page.locator("#identity-phone").fill("0612345678")
    await page.locator("#identity-send").click()
    await expect(page.locator("#identity-status")).to_have_text(strings["identity.saved"])
    await expect(page.locator("#identity-name")).to_have_value("")

    async def stored() -> bool:
        async with rt.reading() as session:
            return await disclosure_queries.has_identity(session, conversation_id)

    await eventually(stored, "the identity to be stored")
    await page.locator("#identity-withdraw").click()
    await expect(page.locator("#identity-status")).to_have_text(strings["identity.withdrawn"])
    assert not await stored()
    assert "Camille" not in json.dumps(await stored_state(page))
    await context.close()
