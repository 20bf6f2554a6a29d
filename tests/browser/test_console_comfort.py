"""The console with several chats: unread counts, read receipts, a chat handed over with an
alert that does not pull the officer away, keyboard shortcuts."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.pages import (
    DESKTOP,
    PHONE,
    new_context,
    staff_chat,
    staff_login,
    staff_sends,
    start_conversation,
    take_conversation,
    visitor_sends,
)
from tests.clients import officer_takes
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

# Desktop notifications, recorded instead of shown (the headless browser has no desktop).
RECORD_NOTIFICATIONS = """
window.__notifications = [];
class RecordedNotification {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  close() {}
}
window.Notification = RecordedNotification;
localStorage.setItem("confide.console.prefs", JSON.stringify({ sound: false, desktop: true }));
"""


async def test_an_officer_with_two_chats_sees_unread_counts_receipts_and_alerts(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona, officer_national: Persona
) -> None:
    officer_context = await new_context(chromium, DESKTOP)
    first_context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    second_context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    try:
        officer = await officer_context.new_page()
        await officer.add_init_script(RECORD_NOTIFICATIONS)
        first = await first_context.new_page()
        second = await second_context.new_page()

        first_id, strings = await start_conversation(first, live_server)
        await staff_login(officer, live_server, officer_paris)
        await take_conversation(officer, first_id)

        # Read receipts, both ways.
        await visitor_sends(first, "Il a pris mon téléphone.")
        mine = first.locator("#messages li.from-visitor .delivery")
        await expect(mine).to_have_attribute("data-state", "read")
        await expect(mine).to_have_text(strings["delivery.read"])
        await staff_sends(officer, first_id, "Êtes-vous en sécurité ?")
        sent = staff_chat(officer, first_id).locator("li.from-self").filter(has_text="sécurité")
        await expect(sent.locator(".receipt")).to_have_text(strings["delivery.read"])

        # A colleague hands a second chat over: an alert, a new tab, and the officer stays
        # in the chat they are in.
        second_id, _ = await start_conversation(second, live_server)
        await visitor_sends(second, "Je suis témoin de violences chez mes voisins.")
        colleague = await officer_takes(live_server, officer_national, second_id)
        await colleague.send(
            {
                "type": "transfer",
                "conversation_id": second_id,
                "to": "staff",
                "target_id": officer_paris.id,
                "note": "",
            }
        )
        second_tab = officer.locator(f'.tab[data-conversation-id="{second_id}"]')
        await expect(second_tab.locator(".unread")).to_have_text("1")
        await expect(staff_chat(officer, first_id)).to_be_visible()
        await expect(staff_chat(officer, second_id)).to_be_hidden()
        notifications = await officer.evaluate("window.__notifications")
        assert [n["title"] for n in notifications] == [strings["staff.notify_assigned"]]
        assert "Il a pris" not in str(notifications), "never the message in a notification"
        await expect(officer).to_have_title(re.compile(r"^\(1\) "))

        # Alt+2 goes to the second chat; its count clears; Alt+1 comes back.
        await staff_chat(officer, first_id).locator(".composer textarea").press("Alt+2")
        await expect(staff_chat(officer, second_id)).to_be_visible()
        await expect(second_tab.locator(".unread")).to_have_count(0)
        await expect(officer).not_to_have_title(re.compile(r"^\("))
        await expect(staff_chat(officer, second_id).locator(".composer textarea")).to_be_focused()
        await officer.keyboard.press("Alt+ArrowDown")
        await expect(staff_chat(officer, first_id)).to_be_visible()

        # The shortcuts are listed in a dialog.
        await officer.keyboard.press("Alt+h")
        dialog = officer.locator("#shortcuts-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog.locator("kbd").first).to_be_visible()
        await dialog.locator("#shortcuts-close").click()
        await expect(dialog).to_be_hidden()
        await colleague.close()
    finally:
        for context in (officer_context, first_context, second_context):
            await context.close()
