"""Page helpers shared by the browser tests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
)

from confide.conversations.models import Conversation
from confide.runtime import Runtime
from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS
from tests.conftest import LiveServer, Persona

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
EXIT_URL = "https://meteofrance.com/"

T = TypeVar("T")


# ---- helpers -------------------------------------------------------------------------------


async def new_context(browser: Browser, viewport: dict[str, int], **options: Any) -> BrowserContext:
    context = await browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


async def page_strings(page: Page) -> dict[str, str]:
    """The translated texts the page's scripts show (the same JSON they read)."""
    text = await page.locator("#strings").text_content()
    assert text
    strings: dict[str, str] = json.loads(text)
    return strings


def template_regex(template: str, **values: str) -> re.Pattern[str]:
    """A pattern matching `template` with each {name} replaced by the given regex."""
    pattern = re.escape(template)
    for name, value in values.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), value)
    return re.compile(f"^{pattern}$")


async def stored_state(page: Page) -> dict[str, Any] | None:
    raw = await page.evaluate("() => sessionStorage.getItem('confide')")
    return json.loads(raw) if raw else None


async def open_start_step(
    page: Page, server: LiveServer, channel: str = "domestic"
) -> dict[str, str]:
    await page.goto(f"{server.url}/")
    strings = await page_strings(page)
    await expect(page.locator("#step-home")).to_be_visible()
    await page.locator(f'button.channel[data-channel="{channel}"]').click()
    await expect(page.locator("#step-start")).to_be_visible()
    await expect(page.locator("#step-home")).to_be_hidden()
    await expect(page.locator("#chosen-channel")).to_have_text(strings[f"channel.{channel}"])
    await expect(page.locator('input[name="role"][value="victim"]')).to_be_checked()
    return strings


async def submit_postcode(page: Page, postcode: str) -> None:
    await page.locator("#postcode").fill(postcode)
    await page.locator("#start-submit").click()


async def expect_waiting_chat(page: Page, strings: dict[str, str]) -> str:
    """The chat step, connected, with a queue position; returns the conversation id."""
    await expect(page.locator("#step-chat")).to_be_visible()
    await expect(page.locator("#step-start")).to_be_hidden()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#connection")).to_have_text(strings["state.connected"])
    await expect(page.locator("#waiting")).to_be_visible()
    position = re.compile(
        f"{template_regex(strings['queue.first']).pattern}|"
        f"{template_regex(strings['queue.position'], position=r'[0-9]+').pattern}"
    )
    await expect(page.locator("#queue-position")).to_have_text(position)
    state = await stored_state(page)
    assert state is not None, "the conversation is kept in sessionStorage"
    conversation_id: str = state["conversation_id"]
    return conversation_id


async def start_conversation(
    page: Page, server: LiveServer, postcode: str = "75011"
) -> tuple[str, dict[str, str]]:
    strings = await open_start_step(page, server)
    await submit_postcode(page, postcode)
    return await expect_waiting_chat(page, strings), strings


async def staff_login(
    page: Page,
    server: LiveServer,
    persona: Persona,
    *,
    before_submit: Callable[[], Awaitable[None]] | None = None,
    console: bool = True,
) -> None:
    """Log in through the form; with `console`, wait for the console's socket (staff who
    chat; admins and prosecutors land on a page without one)."""
    await page.goto(f"{server.url}/staff/login")
    await page.locator("#username").fill(persona.username)
    await page.locator("#password").fill(persona.password)
    await page.locator("#code").fill(persona.code())
    if before_submit is not None:
        await before_submit()
    await page.locator("main.login form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(rf"^{re.escape(server.url)}/staff(\?.*)?$"))
    if console:
        await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")


def staff_chat(page: Page, conversation_id: str) -> Locator:
    return page.locator(f'article.staff-chat[data-conversation-id="{conversation_id}"]')


async def open_more_actions(chat: Locator) -> None:
    """Open a chat's "More actions" menu (flags, hand-off, signalement, transcript…)."""
    await chat.locator(".more-actions > summary").click()
    await expect(chat.locator(".more-menu")).to_be_visible()


def staff_chat_bodies(page: Page, conversation_id: str) -> Locator:
    """The texts of the messages of both sides, in the console, in order (no system notes)."""
    return staff_chat(page, conversation_id).locator("li.message:not(.system) .body")


async def take_conversation(page: Page, conversation_id: str) -> None:
    item = page.locator(f'#queue li.queue-item[data-conversation-id="{conversation_id}"]')
    await expect(item).to_be_visible()
    await item.locator("button.take").click()
    chat = staff_chat(page, conversation_id)
    await expect(chat).to_be_visible()
    await expect(item).to_have_count(0)


async def visitor_sends(page: Page, body: str) -> None:
    await page.locator("#body").fill(body)
    await page.locator("#body").press("Enter")
    await expect(page.locator("#body")).to_have_value("")
    mine = page.locator("#messages li.from-visitor").filter(has_text=body)
    await expect(mine.locator(".delivery")).to_have_attribute("data-state", "sent")


async def staff_sends(page: Page, conversation_id: str, body: str) -> None:
    chat = staff_chat(page, conversation_id)
    await chat.locator(".composer textarea").fill(body)
    await chat.locator(".composer textarea").press("Enter")
    await expect(chat.locator(".composer textarea")).to_have_value("")
    await expect(chat.locator("li.message").filter(has_text=body)).not_to_have_class(
        re.compile(r"\bpending\b")
    )


async def close_from_console(
    page: Page,
    conversation_id: str,
    strings: dict[str, str],
    *,
    channel: str = "domestic",
    offence: str = "unknown",
    outcomes: tuple[str, ...] = ("information",),
) -> None:
    """Close through the qualification dialog (chat type, offence suspected, outcomes)."""
    chat = staff_chat(page, conversation_id)
    await chat.locator("button.close-chat").click()
    dialog = page.locator("#close-dialog")
    await expect(dialog).to_be_visible()
    await dialog.locator(f'input[name="channel"][value="{channel}"]').check()
    await dialog.locator(f'input[name="offence"][value="{offence}"]').check()
    for outcome in outcomes:
        await dialog.locator(f'input[name="outcomes"][value="{outcome}"]').check()
    await dialog.locator("button.close-submit").click()
    await expect(dialog).to_be_hidden()
    await expect(chat.locator(".composer")).to_be_hidden()
    await expect(chat.locator("button.close-chat")).to_be_hidden()


async def eventually(
    check: Callable[[], Awaitable[T]], what: str, within_s: float = TIMEOUT_MS / 1000
) -> T:
    """Poll `check` until it returns a truthy value (for state outside the browser)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def conversation_status(rt: Runtime, conversation_id: str) -> str:
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        return str(conversation.status)


async def shoot(page: Page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=SCREENSHOTS / f"{name}-{size}.png", full_page=False, animations="disabled"
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# ---- tests ---------------------------------------------------------------------------------


#: The WCAG 2.0 and 2.1 levels A and AA rules of axe-core.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def axe_violations(page: Page, source: str) -> list[dict[str, Any]]:
    await page.add_script_tag(content=source)
    result = await page.evaluate(
        "async (tags) => (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations",
        WCAG_AA,
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
    ]
