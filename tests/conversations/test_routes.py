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
    # Its own Redis database: with Redis the count is shared by every node, and the other test
    # servers (whose limit is lifted) come from the same address.
    redis_url = migrated.redis_url.rsplit("/", 1)[0] + "/1" if migrated.redis_url else None
    settings = migrated.model_copy(
        update={"conversations_per_hour_per_network": 3, "redis_url": redis_url}
    )
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


@pytest.fixture(scope="module")
def proxied_server(migrated: Settings, data_dir: Path) -> Iterator[LiveServer]:
    settings = migrated.model_copy(
        update={"conversations_per_hour_per_network": 2, "trusted_proxies": ["127.0.0.1"]}
    )
    server = start_server(settings, data_dir / "server-proxied.log")
    yield server
    server.stop()


async def test_behind_a_trusted_proxy_the_limit_applies_per_forwarded_address(
    proxied_server: LiveServer,
) -> None:
    body = {"channel": "domestic", "role": "victim", "postcode": "75011"}

    async def start(address: str) -> int:
        async with httpx.AsyncClient(base_url=proxied_server.url) as client:
            response = await client.post(
                "/api/conversations", json=body, headers={"X-Forwarded-For": address}
            )
        return response.status_code

    assert [await start("198.51.100.1") for _ in range(3)] == [201, 201, 429]
    assert await start("198.51.100.2") == 201
    assert "198.51.100" not in proxied_server.log()


async def test_without_a_trusted_proxy_a_forged_header_does_not_escape_the_limit(
    strict_server: LiveServer,
) -> None:
    body = {"channel": "domestic", "role": "victim", "postcode": "75011"}
    async with httpx.AsyncClient(base_url=strict_server.url) as client:
        statuses = [
            (
                await client.post(
                    "/api/conversations", json=body, headers={"X-Forwarded-For": f"192.0.2.{i}"}
                )
            ).status_code
            for i in range(5)
        ]
    assert statuses[-1] == 429
