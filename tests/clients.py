"""Protocol clients used by the tests: they speak to a live server like the browsers do."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import LiveServer, Persona

TIMEOUT = 10.0


class FrameSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.buffer: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def expect(
        self, frame_type: str, timeout: float = TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The first frame of this type (and these values), in arrival order. Frames skipped
        on the way stay buffered for later `expect` calls."""

        def matches(frame: dict[str, Any]) -> bool:
            return frame.get("type") == frame_type and all(
                frame.get(k) == v for k, v in match.items()
            )

        for index, frame in enumerate(self.buffer):
            if matches(frame):
                return self.buffer.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"no {frame_type} frame matching {match}; saw {self.seen[-10:]}"
                )
            try:
                frame = await self.recv(left)
            except TimeoutError:
                raise AssertionError(
                    f"no {frame_type} frame matching {match}; saw {self.seen[-10:]}"
                ) from None
            if matches(frame):
                return frame
            self.buffer.append(frame)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Frames arriving within `seconds` (to check that nothing more comes)."""
        frames, self.buffer = self.buffer, []
        try:
            while True:
                frames.append(await self.recv(seconds))
        except TimeoutError:
            return frames

    async def close(self) -> None:
        await self.ws.close()


async def start_conversation(
    server: LiveServer, *, channel: str = "domestic", role: str = "victim", postcode: str = "75011"
) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/conversations",
            json={"channel": channel, "role": role, "postcode": postcode, "lang": "en"},
        )
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], data["token"]


async def visitor_socket(
    server: LiveServer, token: str, *, resume: int | None = 0
) -> tuple[FrameSocket, dict[str, Any]]:
    ws = FrameSocket(await websockets.connect(f"{server.ws_url}/ws/visitor?lang=en"))
    await ws.send({"type": "auth", "token": token})
    ready = await ws.expect("ready")
    if resume is not None:
        await ws.send({"type": "resume", "after_seq": resume})
    return ws, ready


async def send_text(
    ws: FrameSocket, body: str, client_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    client_id = client_id or str(uuid.uuid4())
    await ws.send({"type": "send", "client_id": client_id, "body": body, **extra})
    return await ws.expect("ack", client_id=client_id)


async def staff_login(server: LiveServer, persona: Persona) -> httpx.Cookies:
    """Log in through the real form (CSRF field, password, TOTP); returns the cookies."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        response = await client.post(
            "/staff/login",
            data={
                "username": persona.username,
                "password": persona.password,
                "code": persona.code(),
                "csrf": csrf.group(1),
            },
        )
        assert response.status_code == 303, response.text
        return client.cookies


async def staff_socket(
    server: LiveServer, cookies: httpx.Cookies
) -> tuple[FrameSocket, dict[str, Any]]:
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    ws = FrameSocket(
        await websockets.connect(
            f"{server.ws_url}/ws/staff?lang=en",
            additional_headers={"Cookie": cookie},
            origin=websockets.Origin(server.url),
        )
    )
    hello = await ws.expect("hello")
    return ws, hello


async def officer_takes(server: LiveServer, persona: Persona, conversation_id: str) -> FrameSocket:
    """`persona` logged in through the form, on the staff socket, holding the conversation."""
    officer, _ = await staff_socket(server, await staff_login(server, persona))
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("opened")
    return officer
