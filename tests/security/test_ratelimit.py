"""Rate limits: a sliding window in memory, and one count shared by every node through Redis."""

from __future__ import annotations

import uuid

import pytest

from confide.security.ratelimit import RateLimiter, SharedRateLimiter
from confide.settings import Settings
from tests.conftest import BACKEND, free_port


def test_memory_window_refuses_over_the_limit_then_forgets() -> None:
    limiter = RateLimiter(3, 10)
    assert [limiter.hit("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.hit("b", now=3), "keys are counted separately"
    assert limiter.hit("a", now=10.5), "hits older than the window no longer count"


@pytest.mark.skipif(BACKEND != "postgres", reason="Redis is part of the PostgreSQL + Redis run")
async def test_shared_limit_holds_across_nodes(settings: Settings) -> None:
    assert settings.redis_url
    node_a = SharedRateLimiter("test", 3, 60, settings.redis_url)
    node_b = SharedRateLimiter("test", 3, 60, settings.redis_url)
    key = uuid.uuid4().hex
    try:
        answers = [await node.allow(key) for node in (node_a, node_b, node_a, node_b)]
    finally:
        await node_a.close()
        await node_b.close()
    assert answers == [True, True, True, False]


async def test_shared_limit_still_limits_when_redis_is_unreachable() -> None:
    limiter = SharedRateLimiter("test", 2, 60, f"redis://127.0.0.1:{free_port()}/0")
    try:
        answers = [await limiter.allow("k") for _ in range(3)]
    finally:
        await limiter.close()
    assert answers == [True, True, False]
