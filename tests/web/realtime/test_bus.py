"""Both Bus implementations deliver to subscribers of a topic, and only to them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from confide.settings import Settings
from confide.web.realtime.bus import Bus, InProcessBus, RedisBus
from tests.conftest import BACKEND


async def wait_for(items: list[Any], count: int) -> None:
    for _ in range(200):
        if len(items) >= count:
            return
        await asyncio.sleep(0.01)


async def exercise(publisher: Bus, subscriber: Bus) -> None:
    got: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    await subscriber.subscribe("conv:a", got.append)
    await subscriber.subscribe("conv:b", other.append)
    await asyncio.sleep(0.05)
    await publisher.publish("conv:a", {"type": "message", "seq": 1})
    await publisher.publish("conv:a", {"type": "message", "seq": 2})
    await wait_for(got, 2)
    assert got == [{"type": "message", "seq": 1}, {"type": "message", "seq": 2}]
    assert other == []
    await subscriber.unsubscribe("conv:a", got.append)
    await asyncio.sleep(0.05)
    await publisher.publish("conv:a", {"type": "message", "seq": 3})
    await publisher.publish("conv:b", {"type": "message", "seq": 1})
    await wait_for(other, 1)
    assert len(got) == 2
    assert other == [{"type": "message", "seq": 1}]


async def test_in_process_bus() -> None:
    bus = InProcessBus()
    await exercise(bus, bus)


@pytest.mark.skipif(BACKEND != "postgres", reason="Redis is part of the PostgreSQL + Redis run")
async def test_redis_bus_between_two_nodes(settings: Settings) -> None:
    assert settings.redis_url
    node_a, node_b = RedisBus(settings.redis_url), RedisBus(settings.redis_url)
    await node_a.start()
    await node_b.start()
    try:
        await exercise(node_a, node_b)
    finally:
        await node_a.stop()
        await node_b.stop()
