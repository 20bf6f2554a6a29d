"""`POST /api/conversations` over HTTP: clear answers to bad input, and the per-network limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from confide.settings import Settings
from tests.conftest import LiveServer, start_server


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"channel": "domestic", "role": "victim", "postcode": "7501"}, "postcode_invalid"),
        ({"channel": "domestic", "role": "victim", "postcode": "ABCDE"}, "postcode_invalid"),
        ({"channel": "cooking", "role": "victim", "postcode": "75011"}, "conversation_invalid"),
        ({"channel": "domestic", "postcode": "75011"}, "invalid_request"),
        ({"channel": "domestic", "role": "victim", "postcode": "7" * 5000}, "invalid_request"),
    ],
)
async def test_bad_input_gets_a_clear_error(
    live_server: LiveServer, payload: dict[str, str], code: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post("/api/conversations?lang=en", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text


async def test_malformed_json_is_a_clear_error(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/api/conversations", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.fixture(scope="module")
def strict_server(migrated: Settings, data_dir: Path) -> Iterator[LiveServer]:
    settings = migrated.model_copy(update={"conversations_per_hour_per_network": 3})
    server = start_server(settings, data_dir / "server-strict.log")
    yield server
    server.stop()


async def test_too_many_new_conversations_from_one_network_are_refused(
    strict_server: LiveServer,
) -> None:
    body = {"channel": "sexual", "role": "witness", "postcode": "59000"}
    async with httpx.AsyncClient(base_url=strict_server.url) as client:
        statuses = [
            (await client.post("/api/conversations?lang=en", json=body)).status_code
            for _ in range(4)
        ]
        refused = await client.post("/api/conversations?lang=en", json=body)
    assert statuses == [201, 201, 201, 429]
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "Too many requests, please slow down a little.",
    }
