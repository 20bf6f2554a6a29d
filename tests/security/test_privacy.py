"""What a visitor's device and the server keep: no cookie, strict headers, no IP anywhere."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from confide.app import create_app
from confide.conversations import queries as conversation_queries
from confide.db import Base
from confide.disclosure import queries as disclosure_queries
from confide.disclosure.models import ProsecutorKey, SealedMetadata
from confide.routing import actions as routing_actions
from confide.routing import queries as routing_queries
from confide.runtime import Runtime
from confide.security import crypto
from confide.staff.schemas import StaffIdentity
from tests.clients import send_text, staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import PROSECUTOR_PASSPHRASE, LiveServer, Persona, make_staff
from tests.security.test_permissions import _walk

IP = re.compile(r"\b127\.0\.0\.1\b|::1\b")
PURPOSES = (
    disclosure_queries.JUSTIFICATION_KEY,
    disclosure_queries.REFUSAL_KEY,
    disclosure_queries.REVEALED_KEY,
    disclosure_queries.IDENTITY_KEY,
)


async def test_visitor_page_sets_no_cookie_and_strict_headers(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        for path in ["/", "/?lang=en", "/static/visitor.js", "/static/app.css"]:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "set-cookie" not in response.headers, path
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["referrer-policy"] == "no-referrer"
            csp = response.headers["content-security-policy"]
            assert "unsafe-inline" not in csp
            assert "script-src 'self'" in csp
            assert "default-src 'none'" in csp
        started = await client.post(
            "/api/conversations", json={"channel": "sexual", "role": "victim", "postcode": "69001"}
        )
        assert "set-cookie" not in started.headers


async def test_visitor_page_has_no_inline_script_or_style_and_no_third_party_asset(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        html = (await client.get("/")).text
    assert ' style="' not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "tel:", "sms:", "#")), url
    assert 'autocomplete="off"' in html


async def test_no_ip_address_in_logs_or_database(live_server: LiveServer, rt: Runtime) -> None:
    # Traffic of all kinds, including errors.
    _, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    await send_text(ws, "message de test")
    await ws.send("not json")
    await ws.expect("error")
    await ws.close()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        await client.get("/does-not-exist")
        await client.post("/api/conversations", content=b"{broken")
        await client.post("/api/conversations/leave", content=f'{{"token": "{uuid.uuid4()}"}}')
    ip = re.compile(r"\b127\.0\.0\.1\b|::1\b")
    offending = [line for line in live_server.log().splitlines() if ip.search(line)]
    assert offending == []
    async with rt.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert not ip.search(repr(tuple(row))), (table.name, row)


async def _login(
    server: LiveServer, persona: Persona, cookies: httpx.Cookies | None = None
) -> httpx.AsyncClient:
    cookies = cookies or await staff_login(server, persona)
    return httpx.AsyncClient(base_url=server.url, cookies=cookies, params={"lang": "en"})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def _dump(rt: Runtime) -> list[tuple[str, str]]:
    """Every row of every table, as the text a database thief would read."""
    rows = []
    async with rt.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                rows.append((table.name, repr(tuple(row))))
    return rows


async def test_full_scenario_leaves_no_ip_identity_or_token_in_clear(
    live_server: LiveServer,
    rt: Runtime,
    prosecutor_key: int,
    officer_paris: Persona,
    prosecutor: Persona,
) -> None:
    """A visitor chats and gives their identity, an officer asks to lift anonymity, a
    prosecutor approves and the officer hands the conversation over with a note: afterwards
    neither the database nor the server log holds the IP, the identity, the visitor's token,
    any message body or the note in clear (encryption at rest)."""
    conversation_id, token = await start_conversation(live_server)
    visitor, _ = await visitor_socket(live_server, token)
    # A TOTP code works once: the officer's socket and pages share one session.
    officer_cookies = await staff_login(live_server, officer_paris)
    officer_ws, _ = await staff_socket(live_server, officer_cookies)
    await officer_ws.send({"type": "take", "conversation_id": conversation_id})
    await officer_ws.expect("opened")
    bodies = ["bonjour, je m'appelle Sasha", "il me frappe depuis des mois"]
    for body in bodies:
        await send_text(visitor, body)
    await officer_ws.send(
        {
            "type": "send",
            "conversation_id": conversation_id,
            "client_id": str(uuid.uuid4()),
            "body": "Nous sommes là pour vous aider",
        }
    )
    bodies.append("Nous sommes là pour vous aider")
    await visitor.expect("message", author="officer")
    identity = {"name": "Dominique Secretname", "phone": "0699887766", "email": "d@example.org"}
    await visitor.send({"type": "identity", "fields": identity})
    await visitor.expect("identity_saved")
    await officer_ws.send({"type": "identity_view", "conversation_id": conversation_id})
    assert (await officer_ws.expect("identity"))["fields"]["name"] == identity["name"]
    officer = await _login(live_server, officer_paris, officer_cookies)
    page_url = f"/staff/conversations/{conversation_id}/disclosure"
    page = await officer.get(page_url)
    await officer.post(
        page_url,
        data={"csrf": _csrf(page.text), "reason": "immediate_danger", "justification": "danger"},
    )
    request_id = int(re.findall(r'data-request-id="(\d+)"', (await officer.get(page_url)).text)[0])
    decider = await _login(live_server, prosecutor)
    detail = await decider.get(f"/prosecutor/requests/{request_id}")
    approved = await decider.post(
        f"/prosecutor/requests/{request_id}/approve",
        data={"csrf": _csrf(detail.text), "passphrase": PROSECUTOR_PASSPHRASE},
    )
    assert approved.status_code == 303
    assert "127.0.0.1" in (await officer.get(f"/staff/disclosures/{request_id}")).text
    for client in (officer, decider):
        await client.aclose()
    colleague = await make_staff(rt, "officer", "colleague")
    note = "Menaces de mort répétées, rappeler avant 18 h"
    await routing_actions.transfer_conversation(
        rt,
        staff=StaffIdentity(officer_paris.id, "o", "o", "officer", 0, ""),
        conversation_id=conversation_id,
        to_staff_id=colleague.id,
        note=note,
    )
    async with rt.reading() as session:
        notes = await routing_queries.transfers_of(session, rt.keyring, conversation_id)
        replay = await conversation_queries.messages_after(session, rt.keyring, conversation_id, 0)
    assert [t.note for t in notes] == [note]
    assert [m.body for m in replay if m.author != "system"] == bodies
    await visitor.close()
    await officer_ws.close()

    # No exception for message bodies or hand-over notes: they are encrypted at rest too.
    secrets = [*identity.values(), token, PROSECUTOR_PASSPHRASE, *bodies, note]
    for line in live_server.log().splitlines():
        for secret in secrets:
            assert secret not in line, line
        assert not IP.search(line), line
    for table, row in await _dump(rt):
        assert not IP.search(row), (table, row)
        for secret in secrets:
            assert secret not in row, (table, secret)


async def test_an_administrator_with_database_access_obtains_no_ip(
    live_server: LiveServer, rt: Runtime, prosecutor_key: int, admin: Persona
) -> None:
    """Admins manage accounts, teams and the audit log; none of it, and no table of the
    database, gives them a visitor's address. The sealed ciphertext is useless without the
    prosecution office's passphrase, even with every server secret."""
    conversation_id, _ = await start_conversation(live_server)
    administrator = await _login(live_server, admin)
    pages = [
        route.path
        for route in _walk(create_app().routes)
        if isinstance(route, APIRoute) and "GET" in route.methods and "{" not in route.path
    ]
    seen = 0
    for path in [*pages, f"/staff/audit?conversation_id={conversation_id}"]:
        response = await administrator.get(path)
        seen += response.status_code == 200
        assert not IP.search(response.text), path
    assert seen >= 4
    await administrator.aclose()
    for table, row in await _dump(rt):
        assert not IP.search(row), (table, row)
    async with rt.reading() as session:
        sealed = await session.get(SealedMetadata, conversation_id)
        keys = list(await session.scalars(select(ProsecutorKey)))
    assert sealed is not None
    server_keys = [rt.secrets.master_key, rt.secrets.token_pepper]
    server_keys += [crypto.derive_key(rt.secrets.master_key, p, conversation_id) for p in PURPOSES]
    async with rt.reading() as session:
        server_keys.append(
            await conversation_queries.conversation_key(session, rt.keyring, conversation_id)
        )
    for key in server_keys:
        with pytest.raises(crypto.CryptoError):
            crypto.open_sealed(key, sealed.ciphertext)
    for key in keys:
        for guess in ("", "admin", "password123456", "demo-admin-pass"):
            with pytest.raises((crypto.CryptoError, ValueError)):
                crypto.unprotect_with_passphrase(key.protected_private_key, guess)
