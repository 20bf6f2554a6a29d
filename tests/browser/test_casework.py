"""Case work in the console: an officer writes an internal note, flags immediate danger,
closes through the qualification dialog (an incomplete form closes nothing), then opens the
transcript, whose printed digest matches its text version."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.async_api import Browser, expect

from confide.runtime import Runtime
from tests.browser.pages import (
    PHONE,
    axe_violations,
    conversation_status,
    new_context,
    open_more_actions,
    page_strings,
    staff_chat,
    staff_login,
    take_conversation,
)
from tests.clients import send_text, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser


async def test_officer_notes_flags_closes_with_a_qualification_and_exports(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    axe_source: str,
) -> None:
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    await send_text(visitor, "Il crie et casse tout.")
    # axe is injected as a script: this context alone bypasses the page's CSP to allow it.
    context = await new_context(
        chromium, {"width": 375, "height": PHONE["height"]}, bypass_csp=True
    )
    page = await context.new_page()
    await staff_login(page, live_server, officer_paris)
    strings = await page_strings(page)
    await take_conversation(page, conversation_id)
    chat = staff_chat(page, conversation_id)

    # An internal note.
    await chat.locator("button.notes-toggle").click()
    await expect(chat.locator("button.notes-toggle")).to_have_attribute("aria-expanded", "true")
    await chat.get_by_label(strings["casework.note_label"]).fill("Enfants à la maison")
    await chat.locator("button.note-add").click()
    await expect(chat.locator(".notes-list .note-body")).to_have_text(["Enfants à la maison"])

    # The danger flag: a badge in the header.
    danger = chat.locator("button.flag-toggle-danger")
    await open_more_actions(chat)
    await danger.click()
    await expect(danger).to_have_attribute("aria-pressed", "true")
    await expect(chat.locator(".casework-flags .flag-danger")).to_have_text(strings["flag.danger"])

    # Close: without an outcome the dialog says so and nothing closes.
    await chat.locator("button.close-chat").click()
    dialog = page.locator("#close-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator('input[name="channel"][value="domestic"]')).to_be_checked()
    await dialog.get_by_label(strings["offence.yes"]).check()
    assert await axe_violations(page, axe_source) == []
    await dialog.locator("button.close-submit").click()
    await expect(dialog.locator("#close-error")).to_have_text(strings["casework.missing_outcomes"])
    await expect(dialog).to_be_visible()
    assert await conversation_status(rt, conversation_id) == "active"
    await dialog.get_by_label(strings["outcome.information"]).check()
    await dialog.locator("button.close-submit").click()
    await expect(dialog).to_be_hidden()
    await expect(chat.locator(".composer")).to_be_hidden()
    await expect(chat.locator("button.close-chat")).to_be_hidden()
    await visitor.expect("closed")
    assert await conversation_status(rt, conversation_id) == "closed"

    # The transcript opens in a new tab; its digest is the SHA-256 of transcript.txt.
    await open_more_actions(chat)
    async with context.expect_page() as new_tab:
        await chat.locator("a.transcript-link").click()
    transcript = await new_tab.value
    await expect(transcript.locator("h1")).to_contain_text(conversation_id)
    await expect(transcript.locator(".transcript-body").first).to_have_text(
        "Il crie et casse tout."
    )
    await expect(transcript.locator("#transcript-qualification")).to_contain_text(
        strings["outcome.information"]
    )
    await expect(transcript.locator("#print-transcript")).to_be_visible()
    assert "Enfants" not in (await transcript.content())
    digest_text = await transcript.locator("#transcript-digest").text_content()
    assert digest_text
    found = re.search(r"= ([0-9a-f]{64})$", digest_text)
    assert found is not None
    text_url = await transcript.locator('a[href*="transcript.txt"]').get_attribute("href")
    assert text_url
    response = await context.request.get(f"{live_server.url}{text_url}")
    assert response.ok
    assert hashlib.sha256(await response.body()).hexdigest() == found.group(1)
    await visitor.close()
    await context.close()
