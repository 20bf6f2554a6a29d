"""Rate limits, keyed by digests (never by a raw IP or token).

`RateLimiter` counts in this process's memory (the embedded default); `SharedRateLimiter`
counts in Redis so that the limit holds across every node, and falls back to the local count
while Redis cannot be reached (a limit that still holds per node, rather than none).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RateLimiter:
    """Sliding window in memory."""

    def __init__(self, limit: int, window_s: float, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    async def allow(self, key: str) -> bool:
        return self.hit(key)

    async def close(self) -> None:
        return None

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count one hit for `key`; False when it is over the limit (the hit is not counted)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def _evict(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:
            self._hits.clear()


class SharedRateLimiter:
    """Fixed windows counted in Redis (INCR + EXPIRE): one count for all nodes."""

    PREFIX = "confide:rl:"

    def __init__(self, name: str, limit: int, window_s: float, redis_url: str) -> None:
        self.name = name
        self.limit = limit
        self.window_s = window_s
        self._redis = aioredis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self._local = RateLimiter(limit, window_s)

    async def allow(self, key: str) -> bool:
        window = math.floor(time.time() / self.window_s)
        redis_key = f"{self.PREFIX}{self.name}:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, math.ceil(self.window_s) + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError):
            log.warning("rate limit store unreachable; counting on this node only")
            return self._local.hit(key)
        return int(count) <= self.limit

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(
    name: str, limit: int, window_s: float, redis_url: str | None
) -> RateLimiter | SharedRateLimiter:
    if redis_url:
        return SharedRateLimiter(name, limit, window_s, redis_url)
    return RateLimiter(limit, window_s)
