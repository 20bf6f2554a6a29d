"""End-to-end journeys in a real browser: a visitor and a police officer, against the live server.

The visitor page is served in French by default: expected texts are read from the page's own
strings (the ``#strings`` JSON the scripts use), so these tests do not depend on the language.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Request, Response, Route, expect

from confide.conversations.schemas import Status
from confide.runtime import Runtime
from tests.browser.pages import (
    DESKTOP,
    EXIT_URL,
    PHONE,
    close_from_console,
    conversation_status,
    eventually,
    expect_waiting_chat,
    new_context,
    open_start_step,
    origin,
    page_strings,
    shoot,
    staff_chat,
    staff_chat_bodies,
    staff_login,
    staff_sends,
    start_conversation,
    stored_state,
    submit_postcode,
    take_conversation,
    visitor_sends,
)
from tests.conftest import LiveServer, Persona

pytestmark = pytest.mark.browser


async def test_visitor_and_officer_chat_end_to_end(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    visitor_context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    officer_context = await new_context(chromium, DESKTOP)
    try:
        visitor = await visitor_context.new_page()
        officer = await officer_context.new_page()

        conversation_id, strings = await start_conversation(visitor, live_server)

        await staff_login(officer, live_server, officer_paris)
        await take_conversation(officer, conversation_id)
        console_bodies = staff_chat_bodies(officer, conversation_id)

        # The visitor is told an officer joined, and the waiting panel goes away.
        joined = strings["system.assigned"]
        await expect(visitor.locator("#messages li.system")).to_have_text([joined])
        await expect(visitor.locator("#waiting")).to_be_hidden()

        first = "Bonjour, mon conjoint me menace depuis hier soir."
        await visitor_sends(visitor, first)
        await expect(console_bodies).to_have_text([first])
        # The officer does not see the visitor's own label ("You") on the visitor's messages.
        visitor_in_console = (
            staff_chat(officer, conversation_id)
            .locator("li.message:not(.system)")
            .filter(has_text=first)
        )
        await expect(visitor_in_console.locator(".meta")).not_to_contain_text(
            strings["author.visitor"]
        )

        reply = "Bonjour, je suis policier. Êtes-vous en sécurité en ce moment ?"
        await staff_sends(officer, conversation_id, reply)
        await expect(console_bodies).to_have_text([first, reply])
        officer_message = visitor.locator("#messages li.from-officer")
        await expect(officer_message.locator(".body")).to_have_text([reply])
        await expect(officer_message.locator(".meta")).to_contain_text(strings["author.officer"])

        # A reload finds the whole conversation again: every message once, in order.
        await visitor.reload()
        await expect(visitor.locator("#step-chat")).to_be_visible()
        await expect(visitor.locator("#connection")).to_have_attribute("data-state", "connected")
        await expect(visitor.locator("#messages > li")).to_have_text(
            [
                re.compile(re.escape(joined)),
                re.compile(re.escape(first)),
                re.compile(re.escape(reply)),
            ]
        )
        await expect(visitor.locator("#messages > li:nth-child(2)")).to_have_class(
            re.compile(r"\bfrom-visitor\b")
        )
        await expect(visitor.locator("#messages > li:nth-child(3) .meta")).to_contain_text(
            strings["author.officer"]
        )
        await expect(visitor.locator("#waiting")).to_be_hidden()

        # And the conversation goes on.
        second = "Oui, je suis chez une amie."
        await visitor_sends(visitor, second)
        await expect(console_bodies).to_have_text([first, reply, second])
        await expect(visitor.locator("#messages li.from-visitor .body")).to_have_text(
            [first, second]
        )

        await close_from_console(officer, conversation_id, strings)
        await expect(visitor.locator("#ended")).to_be_visible()
        await expect(visitor.locator("#composer")).to_be_hidden()
        await expect(visitor.locator("#messages > li").last).to_have_text(strings["system.closed"])
        await expect(
            officer.locator(f'#tabs button[data-conversation-id="{conversation_id}"]')
        ).to_have_class(re.compile(r"\bended\b"))
    finally:
        await visitor_context.close()
        await officer_context.close()


async def test_visitor_pages_leave_no_trace(
    chromium: Browser, live_server: LiveServer, rt: Runtime
) -> None:
    await check_session_storage_outlives_a_plain_exit(chromium, live_server)
    context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    requests: list[Request] = []
    responses: list[Response] = []
    sockets: list[str] = []
    exits: list[str] = []

    async def neutral_site(route: Route) -> None:
        exits.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="meteo")

    context.on("request", lambda request: requests.append(request))
    context.on("response", lambda response: responses.append(response))
    await context.route(f"{EXIT_URL}**", neutral_site)
    try:
        page = await context.new_page()
        page.on("websocket", lambda ws: sockets.append(ws.url))
        conversation_id, _ = await start_conversation(page, live_server)
        await visitor_sends(page, "Je voudrais parler à quelqu'un.")
        # Something to wipe, so that finding nothing after the exit means something.
        assert await stored_state(page) is not None

        await page.keyboard.press("Escape")
        await page.wait_for_url(EXIT_URL)
        await expect(page.locator("body")).to_have_text("meteo")
        # The chat page was replaced in the tab's history: Back does not lead to it.
        await page.go_back()
        assert not page.url.startswith(live_server.url), page.url
        # The server was told (beacon): the conversation no longer waits for an officer.
        await eventually(
            lambda: _is_abandoned(rt, conversation_id),
            "the quick exit to abandon the waiting conversation",
        )

        # Nothing left on the device for the server's origin.
        assert await context.cookies() == []
        # Back in the same tab: the same sessionStorage as before the exit.
        await page.goto(f"{live_server.url}/healthz")
        assert await page.evaluate("() => sessionStorage.length") == 0
        other = await context.new_page()
        await other.goto(f"{live_server.url}/healthz")
        assert await other.evaluate("() => localStorage.length") == 0
        assert await other.evaluate("() => document.cookie") == ""

        # No third party: every request went to the server, but the one navigation to the exit.
        server_origin = origin(live_server.url)
        exit_requests = [r for r in requests if r.url == EXIT_URL]
        assert len(exit_requests) == 1, [r.url for r in exit_requests]
        assert exit_requests[0].is_navigation_request()
        assert exits == [EXIT_URL]
        third_party = [
            r.url for r in requests if r not in exit_requests and origin(r.url) != server_origin
        ]
        assert third_party == []
        assert sockets, "the chat went through a WebSocket"
        assert {origin(url) for url in sockets} == {f"ws://{urlsplit(live_server.url).netloc}"}

        # The visitor page and everything it loaded: not cached, no referrer, a strict CSP.
        ours = [r for r in responses if origin(r.url) == server_origin]
        kinds = {r.request.resource_type for r in ours}
        assert {"document", "script", "stylesheet", "fetch"} <= kinds, kinds
        for response in ours:
            headers = await response.all_headers()
            where = f"{response.request.method} {response.url}"
            assert headers.get("cache-control") == "no-store", where
            assert headers.get("referrer-policy") == "no-referrer", where
            csp = headers.get("content-security-policy", "")
            assert "default-src 'none'" in csp, where
            assert "script-src 'self'" in csp, where
            assert "'unsafe-inline'" not in csp, where
            assert "'unsafe-eval'" not in csp, where
    finally:
        await context.close()


async def check_session_storage_outlives_a_plain_exit(browser: Browser, server: LiveServer) -> None:
    """Control: without the quick exit's wipe, sessionStorage would still be there when the tab
    comes back to the server's origin; so finding it empty after a quick exit means something."""
    context = await new_context(browser, PHONE)
    try:
        await context.route(f"{EXIT_URL}**", lambda route: route.fulfill(status=200, body="meteo"))
        page = await context.new_page()
        await page.goto(f"{server.url}/healthz")
        await page.evaluate("() => sessionStorage.setItem('probe', '1')")
        await page.goto(EXIT_URL)
        await page.goto(f"{server.url}/healthz")
        assert await page.evaluate("() => sessionStorage.getItem('probe')") == "1"
    finally:
        await context.close()


async def _is_abandoned(rt: Runtime, conversation_id: str) -> bool:
    return await conversation_status(rt, conversation_id) == Status.ABANDONED


async def test_ill_formed_postcode_shows_an_inline_message(
    chromium: Browser, live_server: LiveServer, rt: Runtime
) -> None:
    context = await new_context(chromium, PHONE, is_mobile=True, has_touch=True)
    starts: list[Request] = []

    async def neutral_site(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="meteo")

    def on_request(request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/api/conversations":
            starts.append(request)

    context.on("request", on_request)
    await context.route(f"{EXIT_URL}**", neutral_site)
    try:
        page = await context.new_page()
        strings = await open_start_step(page, live_server)

        await submit_postcode(page, "7501")
        error = page.locator("#postcode-error")
        await expect(error).to_be_visible()
        await expect(error).to_have_text(strings["error.postcode"])
        await expect(page.locator("#postcode")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#postcode")).to_be_focused()
        await expect(page.locator("#step-start")).to_be_visible()
        await expect(page.locator("#step-chat")).to_be_hidden()
        await shoot(page, "visitor-postcode-error", "phone")
        # Checked in the submit handler, before any request: nothing was started.
        assert starts == []
        assert await stored_state(page) is None

        await submit_postcode(page, "75 011")
        conversation_id = await expect_waiting_chat(page, strings)
        await expect(error).to_be_hidden()
        assert len(starts) == 1
        assert starts[0].post_data_json["postcode"] == "75011"

        # Leave through the Quick exit button, so that nobody is left waiting in the queue.
        await page.locator("#quick-exit").click()
        await page.wait_for_url(EXIT_URL)
        await eventually(
            lambda: _is_abandoned(rt, conversation_id), "the quick exit to be recorded"
        )
    finally:
        await context.close()


@pytest.mark.parametrize(
    ("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)], ids=["phone", "desktop"]
)
async def test_screenshots_of_every_step(
    chromium: Browser,
    live_server: LiveServer,
    officer_paris: Persona,
    size: str,
    viewport: dict[str, int],
) -> None:
    """Pictures of each screen for docs/screenshots (and a walk through every step)."""
    mobile = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
    visitor_context = await new_context(chromium, viewport, **mobile)
    officer_context = await new_context(chromium, viewport, **mobile)
    try:
        visitor = await visitor_context.new_page()
        officer = await officer_context.new_page()

        await visitor.goto(f"{live_server.url}/")
        await expect(visitor.locator("#step-home")).to_be_visible()
        await shoot(visitor, "visitor-home", size)

        strings = await open_start_step(visitor, live_server)
        await visitor.locator("#postcode").fill("75011")
        await shoot(visitor, "visitor-start", size)
        await visitor.locator("#start-submit").click()
        conversation_id = await expect_waiting_chat(visitor, strings)
        await visitor_sends(visitor, "Bonjour, j'ai besoin de parler à quelqu'un.")
        await shoot(visitor, "visitor-waiting", size)

        async def login_picture() -> None:
            await shoot(officer, "staff-login", size)

        await staff_login(officer, live_server, officer_paris, before_submit=login_picture)
        await take_conversation(officer, conversation_id)
        await expect(visitor.locator("#messages li.system")).to_have_text(
            [strings["system.assigned"]]
        )
        await staff_sends(officer, conversation_id, "Bonjour, je suis policière. Je vous écoute.")
        await expect(visitor.locator("#messages li.from-officer .body")).to_have_count(1)
        await visitor_sends(visitor, "Mon ex-conjoint m'attend en bas de chez moi tous les soirs.")
        await expect(staff_chat_bodies(officer, conversation_id)).to_have_count(3)
        await shoot(visitor, "visitor-chat", size)
        await shoot(officer, "staff-console", size)

        await close_from_console(officer, conversation_id, strings)
        await expect(visitor.locator("#ended")).to_be_visible()
        await shoot(visitor, "visitor-ended", size)
    finally:
        await visitor_context.close()
        await officer_context.close()


async def test_officer_sees_the_shared_identity_only_on_request_and_can_ask_to_lift_anonymity(
    chromium: Browser, live_server: LiveServer, officer_paris: Persona
) -> None:
    visitor_context = await new_context(chromium, PHONE)
    officer_context = await new_context(chromium, DESKTOP)
    try:
        visitor = await visitor_context.new_page()
        officer = await officer_context.new_page()
        conversation_id, _ = await start_conversation(visitor, live_server)
        await staff_login(officer, live_server, officer_paris)
        await take_conversation(officer, conversation_id)
        chat = staff_chat(officer, conversation_id)
        staff_strings = await page_strings(officer)
        link = chat.locator("a.disclosure-link")
        await expect(link).to_have_attribute(
            "href", re.compile(rf"^/staff/conversations/{conversation_id}/disclosure")
        )

        await visitor.locator("#identity-tools summary").click()
        await visitor.locator("#identity-name").fill("Camille")
        await visitor.locator("#identity-send").click()
        identity = chat.locator(".identity")
        await expect(identity.locator(".identity-note")).to_have_text(
            staff_strings["staff.identity_shared"]
        )
        await expect(identity.locator(".identity-name")).to_have_count(0)
        await identity.locator("button.identity-show").click()
        await expect(identity.locator(".identity-name")).to_have_text("Camille")

        await visitor.locator("#identity-withdraw").click()
        await expect(identity.locator(".identity-note")).to_have_text(
            staff_strings["staff.identity_withdrawn"]
        )
        await expect(identity.locator(".identity-name")).to_have_count(0)
    finally:
        await visitor_context.close()
        await officer_context.close()
