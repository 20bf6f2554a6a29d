"""The disclosure pages on the live server: an officer files a request, a prosecutor reads the
conversation and decides with the passphrase, and only they see the opened data."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.clients import send_text, staff_login, start_conversation, visitor_socket
from tests.conftest import PROSECUTOR_PASSPHRASE, LiveServer, Persona


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def logged_in(server: LiveServer, persona: Persona) -> httpx.AsyncClient:
    cookies = await staff_login(server, persona)
    return httpx.AsyncClient(
        base_url=server.url, cookies=cookies, params={"lang": "en"}, follow_redirects=False
    )


async def test_request_decision_and_viewing_through_the_pages(
    live_server: LiveServer,
    rt: Runtime,
    prosecutor_key: int,
    officer_paris: Persona,
    officer_national: Persona,
    prosecutor: Persona,
    admin: Persona,
) -> None:
    conversation_id, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    await send_text(ws, "Il a une arme et il revient ce soir.")
    await ws.close()
    await conversation_actions.take_conversation(
        rt, staff=identity(officer_paris), conversation_id=conversation_id
    )
    page_url = f"/staff/conversations/{conversation_id}/disclosure"
    # A TOTP code works once: each persona logs in once and keeps its session.
    officer = await logged_in(live_server, officer_paris)
    other = await logged_in(live_server, officer_national)
    decider = await logged_in(live_server, prosecutor)
    administrator = await logged_in(live_server, admin)

    page = await officer.get(page_url)
    assert page.status_code == 200
    assert "No request yet." in page.text
    refused = await officer.post(
        page_url, data={"csrf": csrf_of(page.text), "reason": "curiosity", "justification": ""}
    )
    assert refused.status_code == 422
    assert "Please choose a reason" in refused.text
    filed = await officer.post(
        page_url,
        data={
            "csrf": csrf_of(page.text),
            "reason": "immediate_danger",
            "justification": "Arme à feu, retour prévu ce soir.",
        },
    )
    assert filed.status_code == 303
    page = await officer.get(page_url)
    assert "Waiting for a decision" in page.text
    assert 'name="justification"' not in page.text  # one pending request at a time
    request_id = int(re.findall(r'data-request-id="(\d+)"', page.text)[0])

    assert (await other.get(page_url)).status_code == 403
    assert (await other.get(f"/staff/disclosures/{request_id}")).status_code == 403

    listing = await decider.get("/prosecutor")
    assert listing.status_code == 200
    assert f'href="/prosecutor/requests/{request_id}"' in listing.text
    detail = await decider.get(f"/prosecutor/requests/{request_id}")
    assert detail.status_code == 200
    assert "Il a une arme et il revient ce soir." in detail.text
    assert "Arme à feu, retour prévu ce soir." in detail.text
    assert "127.0.0.1" not in detail.text
    wrong = await decider.post(
        f"/prosecutor/requests/{request_id}/approve",
        data={"csrf": csrf_of(detail.text), "passphrase": "not the passphrase"},
    )
    assert wrong.status_code == 422
    assert "does not open" in wrong.text
    approved = await decider.post(
        f"/prosecutor/requests/{request_id}/approve",
        data={"csrf": csrf_of(detail.text), "passphrase": PROSECUTOR_PASSPHRASE},
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/staff/disclosures/{request_id}"
    shown = await decider.get(f"/staff/disclosures/{request_id}")
    assert '<dd class="ip">127.0.0.1</dd>' in shown.text

    page = await officer.get(page_url)
    assert f'href="/staff/disclosures/{request_id}"' in page.text
    shown = await officer.get(f"/staff/disclosures/{request_id}")
    assert '<dd class="ip">127.0.0.1</dd>' in shown.text
    assert "python-httpx" in shown.text

    for url in ("/prosecutor", f"/prosecutor/requests/{request_id}", page_url):
        assert (await administrator.get(url)).status_code == 403, url
    assert (await administrator.get(f"/staff/disclosures/{request_id}")).status_code == 403
    for client in (officer, other, decider, administrator):
        await client.aclose()

    async with rt.reading() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.conversation_id == conversation_id)
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "conversation.assigned",
        "disclosure.requested",
        "conversation.read",
        "conversation.read",  # the page shown again with the wrong-passphrase error
        "disclosure.approved",
        "disclosure.viewed",
        "disclosure.viewed",
    ]


async def test_refusal_is_shown_to_the_officer_and_reveals_nothing(
    live_server: LiveServer,
    rt: Runtime,
    prosecutor_key: int,
    officer_paris: Persona,
    prosecutor: Persona,
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    await conversation_actions.take_conversation(
        rt, staff=identity(officer_paris), conversation_id=conversation_id
    )
    page_url = f"/staff/conversations/{conversation_id}/disclosure"
    officer = await logged_in(live_server, officer_paris)
    decider = await logged_in(live_server, prosecutor)
    page = await officer.get(page_url)
    await officer.post(
        page_url,
        data={
            "csrf": csrf_of(page.text),
            "reason": "suspected_minor",
            "justification": "Dit avoir 14 ans.",
        },
    )
    request_id = int(re.findall(r'data-request-id="(\d+)"', (await officer.get(page_url)).text)[0])
    detail = await decider.get(f"/prosecutor/requests/{request_id}")
    refused = await decider.post(
        f"/prosecutor/requests/{request_id}/refuse",
        data={"csrf": csrf_of(detail.text), "reason": "Âge non établi."},
    )
    assert refused.status_code == 303
    nothing = await decider.get(f"/staff/disclosures/{request_id}")
    assert 'id="nothing-revealed"' in nothing.text
    page = await officer.get(page_url)
    assert "Refused" in page.text
    assert "Âge non établi." in page.text
    nothing = await officer.get(f"/staff/disclosures/{request_id}")
    assert "127.0.0.1" not in nothing.text
    await officer.aclose()
    await decider.aclose()
