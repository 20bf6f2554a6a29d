"""A resource card as the visitor sees it: name, tap-to-call link, and no accessibility fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from confide.referrals import actions as referral_actions
from confide.runtime import Runtime
from tests.browser.pages import PHONE, axe_violations, new_context, start_conversation
from tests.clients import officer_takes
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"


async def test_visitor_sees_a_resource_card_with_a_call_link(
    chromium: Browser,
    live_server: LiveServer,
    rt: Runtime,
    officer_paris: Persona,
    axe_source: str,
) -> None:
    await referral_actions.import_referrals(rt, SAMPLE.read_text(encoding="utf-8"))
    # axe is injected as a script: this context alone bypasses the page's CSP to allow it.
    context = await new_context(chromium, PHONE, bypass_csp=True)
    page = await context.new_page()
    conversation_id, _ = await start_conversation(page, live_server)
    officer = await officer_takes(live_server, officer_paris, conversation_id)
    await officer.send({"type": "referrals", "conversation_id": conversation_id})
    directory = await officer.expect("referrals", conversation_id=conversation_id)
    line = next(r for r in directory["resources"] if r["name"].startswith("3919"))
    await officer.send(
        {
            "type": "send_referral",
            "conversation_id": conversation_id,
            "referral_id": line["id"],
            "client_id": "5d1f3c2a-8b7e-4e0f-9a6b-2c4d6e8f0a1b",
        }
    )
    card = page.locator(".referral-card")
    await expect(card).to_have_count(1)
    await expect(card.locator(".referral-name")).to_have_text(line["name"])
    await expect(card.locator("a.referral-call")).to_have_attribute("href", "tel:3919")
    assert await axe_violations(page, axe_source) == []
    await officer.close()
    await context.close()
