"""What a visitor's device and the server keep: no cookie, strict headers, no IP anywhere."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy import select

from confide.db import Base
from confide.runtime import Runtime
from tests.clients import send_text, start_conversation, visitor_socket
from tests.conftest import LiveServer


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
