"""Publication of events to the sockets of every node.

The database is the truth, the bus only a hint: a message is committed with its sequence
number before it is published, and a socket that misses a publication catches up from the
database by sequence number. Handlers are synchronous and must not block: sockets put the
payload on their own queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Payload = dict[str, Any]
Handler = Callable[[Payload], None]

#: Delivered to every local handler when the node may have missed publications
#: (Redis reconnected); handlers catch up from the database.
RESYNC: Payload = {"type": "_resync"}


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, topic: str, payload: Payload) -> None: ...
    async def subscribe(self, topic: str, handler: Handler) -> None: ...
    async def unsubscribe(self, topic: str, handler: Handler) -> None: ...


class _LocalHandlers:
    def __init__(self) -> None:
        self.by_topic: defaultdict[str, set[Handler]] = defaultdict(set)

    def add(self, topic: str, handler: Handler) -> bool:
        """Add; True when it is the topic's first local handler."""
        first = topic not in self.by_topic
        self.by_topic[topic].add(handler)
        return first

    def remove(self, topic: str, handler: Handler) -> bool:
        """Remove; True when the topic has no local handler left."""
        handlers = self.by_topic.get(topic)
        if handlers is None:
            return False
        handlers.discard(handler)
        if not handlers:
            del self.by_topic[topic]
            return True
        return False

    def dispatch(self, topic: str, payload: Payload) -> None:
        for handler in list(self.by_topic.get(topic, ())):
            try:
                handler(payload)
            except Exception:
                log.exception("bus handler failed on topic %s", topic)

    def dispatch_all(self, payload: Payload) -> None:
        for topic in list(self.by_topic):
            self.dispatch(topic, payload)


class InProcessBus:
    """The embedded default: one process, publication is a function call."""

    def __init__(self) -> None:
        self._handlers = _LocalHandlers()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, topic: str, payload: Payload) -> None:
        self._handlers.dispatch(topic, payload)

    async def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.add(topic, handler)

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.remove(topic, handler)


class RedisBus:
    """Redis pub/sub fan-out between nodes; each node subscribes only to topics it serves."""

    PREFIX = "confide:"

    def __init__(self, url: str) -> None:
        self._url = url
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._handlers = _LocalHandlers()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Publications that failed while Redis was away, oldest first (bounded: past that,
        # the sockets' catch-up from the database covers what is dropped).
        self._backlog: deque[tuple[str, Payload]] = deque(maxlen=100_000)
        self._flusher: asyncio.Task[None] | None = None
        # Keeps the pub/sub connection alive even while no socket is open.
        self._node_channel = f"{self.PREFIX}node:{uuid.uuid4().hex}"

    async def start(self) -> None:
        self._redis = aioredis.from_url(
            self._url, socket_connect_timeout=5, health_check_interval=10
        )
        await self._redis.ping()
        await self._connect_pubsub()
        self._reader = asyncio.create_task(self._read_forever(), name="redis-bus-reader")

    async def _connect_pubsub(self) -> None:
        assert self._redis is not None
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._node_channel)
        topics = [self.PREFIX + topic for topic in self._handlers.by_topic]
        if topics:
            await self._pubsub.subscribe(*topics)

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()

    async def publish(self, topic: str, payload: Payload) -> None:
        if self._backlog:
            self._backlog.append((topic, payload))
            return
        try:
            await self._send(topic, payload)
        except (RedisError, OSError):
            # The message is committed, but the other nodes must still hear of it: keep the
            # publication and send it when Redis is back (a late one is harmless: sockets
            # drop sequence numbers they already delivered).
            log.warning("redis publish failed on topic %s; kept for later", topic)
            self._backlog.append((topic, payload))
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush(), name="redis-bus-backlog")

    async def _send(self, topic: str, payload: Payload) -> None:
        assert self._redis is not None
        await self._redis.publish(self.PREFIX + topic, json.dumps(payload))

    async def _flush(self) -> None:
        delay = 0.2
        while self._backlog:
            topic, payload = self._backlog[0]
            try:
                await self._send(topic, payload)
            except (RedisError, OSError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._backlog.popleft()
            delay = 0.2
        log.info("redis bus backlog sent")

    async def subscribe(self, topic: str, handler: Handler) -> None:
        async with self._lock:
            if self._handlers.add(topic, handler):
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.subscribe(self.PREFIX + topic)

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        async with self._lock:
            if self._handlers.remove(topic, handler):
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(self.PREFIX + topic)

    async def _read_forever(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"].decode()
                if channel == self._node_channel:
                    continue
                self._handlers.dispatch(
                    channel.removeprefix(self.PREFIX), json.loads(message["data"])
                )
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                log.warning("redis bus disconnected; reconnecting")
                await self._reconnect()
            except Exception:
                log.exception("redis bus reader error")

    async def _reconnect(self) -> None:
        delay = 0.2
        while True:
            await asyncio.sleep(delay)
            try:
                async with self._lock:
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.aclose()
                    await self._connect_pubsub()
            except (RedisError, OSError):
                delay = min(delay * 2, 5.0)
                continue
            log.info("redis bus reconnected")
            self._handlers.dispatch_all(RESYNC)
            return


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else InProcessBus()
