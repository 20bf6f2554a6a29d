"""Pictures of the console's screens and staff pages for docs/screenshots, at phone and
desktop width, with a check that none is wider than the screen or has serious axe findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from confide.referrals import actions as referral_actions
from confide.runtime import Runtime
from tests.browser.pages import (
    DESKTOP,
    PHONE,
    axe_violations,
    new_context,
    open_more_actions,
    shoot,
    staff_chat,
    staff_login,
    start_conversation,
    take_conversation,
    visitor_sends,
)
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"


async def _look(page: Page, name: str, size: str, axe_source: str) -> None:
    """Shoot the screen, then check it fits the width and has no serious axe finding."""
    await shoot(page, name, size)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert page.viewport_size is not None
    assert width <= page.viewport_size["width"], name
    serious = [
        v["id"]
        for v in await axe_violations(page, axe_source)
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], (name, serious)


@pytest.mark.parametrize(
    ("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)], ids=["phone", "desktop"]
)
async def test_screenshots_of_the_console_and_staff_pages(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    admin: Persona,
    axe_source: str,
    size: str,
    viewport: dict[str, int],
) -> None:
    await referral_actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    mobile: dict[str, Any] = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
    contexts = [
        await new_context(chromium, PHONE, is_mobile=True, has_touch=True),
        await new_context(chromium, viewport, bypass_csp=True, **mobile),
        await new_context(chromium, viewport, bypass_csp=True, **mobile),
    ]
    try:
        visitor, officer, manager = [await context.new_page() for context in contexts]
        conversation_id, _ = await start_conversation(visitor, live_server)
        await visitor_sends(visitor, "Bonjour, mon mari me menace depuis des semaines.")
        await staff_login(officer, live_server, officer_paris)
        await take_conversation(officer, conversation_id)
        chat = staff_chat(officer, conversation_id)
        await _look(officer, "console-chat", size, axe_source)

        await open_more_actions(chat)
        await _look(officer, "console-more-actions", size, axe_source)
        await chat.locator(".more-actions > summary").click()

        await chat.locator("button.referrals-chat").click()
        await expect(chat.locator(".referrals li").nth(1)).to_be_visible()
        await _look(officer, "console-resources", size, axe_source)
        await chat.locator("button.referrals-chat").click()

        await chat.locator("button.close-chat").click()
        dialog = officer.locator("#close-dialog")
        await expect(dialog).to_be_visible()
        await _look(officer, "console-close-dialog", size, axe_source)
        await dialog.locator("button.close-cancel").click()
        await expect(dialog).to_be_hidden()

        for path, name in [
            (f"/staff/conversations/{conversation_id}/transcript", "transcript"),
            (f"/staff/conversations/{conversation_id}/signalements/new", "signalement-form"),
        ]:
            await officer.goto(f"{live_server.url}{path}")
            await _look(officer, name, size, axe_source)

        await staff_login(manager, live_server, admin, console=False)
        for path, name in [
            ("/staff/replies", "admin-replies"),
            ("/staff/referrals", "admin-referrals"),
        ]:
            await manager.goto(f"{live_server.url}{path}")
            await _look(manager, name, size, axe_source)
    finally:
        for context in contexts:
            await context.close()
