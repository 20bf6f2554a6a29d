"""The staff login form over HTTP: CSRF, cookie flags, generic errors, logout."""

from __future__ import annotations

import re

import httpx

from confide.runtime import Runtime
from tests.conftest import LiveServer, make_staff


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


async def test_login_sets_a_strict_httponly_session_cookie(
    live_server: LiveServer, rt: Runtime
) -> None:
    persona = await make_staff(rt, "officer")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.get("/staff/login")
        response = await client.post(
            "/staff/login",
            data={
                "username": persona.username,
                "password": persona.password,
                "code": persona.code(),
                "csrf": csrf_of(page.text),
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/staff"
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("confide_staff=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        console = await client.get("/staff")
        assert console.status_code == 200
        assert persona.username in console.text


async def test_login_without_csrf_token_is_refused(live_server: LiveServer, rt: Runtime) -> None:
    persona = await make_staff(rt, "officer")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/staff/login",
            data={
                "username": persona.username,
                "password": persona.password,
                "code": persona.code(),
            },
        )
        assert response.status_code == 400
        assert "confide_staff" not in response.cookies


async def test_bad_login_shows_one_generic_message(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.get("/staff/login?lang=en")
        response = await client.post(
            "/staff/login?lang=en",
            data={
                "username": "nobody",
                "password": "nothing-at-all",
                "code": "123456",
                "csrf": csrf_of(page.text),
            },
        )
        assert response.status_code == 400
        assert "check your username, password and 6-digit code" in response.text
        assert "Traceback" not in response.text


async def test_console_needs_a_session(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/staff")
        assert response.status_code == 303
        assert response.headers["location"] == "/staff/login"


async def test_logout_needs_the_csrf_token_and_revokes_the_session(
    live_server: LiveServer, rt: Runtime
) -> None:
    persona = await make_staff(rt, "officer")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.get("/staff/login")
        await client.post(
            "/staff/login",
            data={
                "username": persona.username,
                "password": persona.password,
                "code": persona.code(),
                "csrf": csrf_of(page.text),
            },
        )
        console = await client.get("/staff")
        session_cookie = client.cookies.get("confide_staff")
        assert session_cookie
        refused = await client.post("/staff/logout", data={"csrf": "forged"})
        assert refused.status_code == 403
        assert (await client.get("/staff")).status_code == 200
        done = await client.post("/staff/logout", data={"csrf": csrf_of(console.text)})
        assert done.status_code == 303
    # The old cookie no longer opens anything, even if replayed.
    async with httpx.AsyncClient(
        base_url=live_server.url, cookies={"confide_staff": session_cookie}
    ) as replay:
        assert (await replay.get("/staff")).status_code == 303
