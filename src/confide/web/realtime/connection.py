"""What both socket endpoints share: reading and checking frames, serialised sends, and
per-conversation feeds that deliver every message exactly once and in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from confide.conversations import queries
from confide.conversations.actions import conversation_topic
from confide.errors import DomainError
from confide.i18n import N_
from confide.runtime import Runtime
from confide.web.errors import error_frame
from confide.web.realtime.bus import Payload

log = logging.getLogger(__name__)


class BadFrame(DomainError):
    code = "bad_frame"
    message = N_("The message could not be read. Please try again.")


class FrameTooLarge(DomainError):
    code = "frame_too_large"
    message = N_(
        "This message is too long: please split it into several messages (4,000 characters at most)."
    )


class Disconnected(Exception):
    pass


class Connection:
    def __init__(self, websocket: WebSocket, rt: Runtime, lang: str) -> None:
        self.websocket = websocket
        self.rt = rt
        self.lang = lang
        self.feeds: dict[str, Feed] = {}
        self._send_lock = asyncio.Lock()
        # Events from the bus: either an `inbox` queue read by a pump task of the endpoint's
        # own, or (`deliver_on_demand`) handed to a callback by a task that exists only while
        # events are waiting. An idle visitor socket then holds neither a queue nor a task
        # (about 4 KB each).
        self._inbox: asyncio.Queue[tuple[str, Payload]] | None = None
        self._deliver: Callable[[str, Payload], Awaitable[bool]] | None = None
        self._pending: list[tuple[str, Payload]] | None = None
        self._drainer: asyncio.Task[None] | None = None

    @property
    def inbox(self) -> asyncio.Queue[tuple[str, Payload]]:
        if self._inbox is None:
            self._inbox = asyncio.Queue()
        return self._inbox

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                raise Disconnected()
            try:
                await self.websocket.send_text(json.dumps(frame, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                raise Disconnected() from exc

    async def send_error(self, error: DomainError) -> None:
        await self.send(error_frame(error, self.lang))

    async def receive_frame(self, timeout: float | None = None) -> dict[str, Any]:
        """The next frame as a JSON object with a string `type`; raises `BadFrame`,
        `FrameTooLarge` (the socket stays usable) or `Disconnected`."""
        try:
            message = await asyncio.wait_for(self.websocket.receive(), timeout)
        except TimeoutError:
            raise BadFrame() from None
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise Disconnected() from exc
        if message["type"] == "websocket.disconnect":
            raise Disconnected()
        raw = message.get("text")
        if raw is None:
            data = message.get("bytes") or b""
            if len(data) > self.rt.settings.frame_max_bytes:
                raise FrameTooLarge()
            try:
                raw = data.decode()
            except UnicodeDecodeError:
                raise BadFrame() from None
        if len(raw.encode()) > self.rt.settings.frame_max_bytes:
            raise FrameTooLarge()
        try:
            frame = json.loads(raw)
        except ValueError:
            raise BadFrame() from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise BadFrame()
        return frame

    def post(self, kind: str, payload: Payload) -> None:
        """Called from bus handlers: queue an event for delivery, never block."""
        if self._deliver is None:
            self.inbox.put_nowait((kind, payload))
            return
        if self._deliver is _dropped:
            return
        if self._pending is None:
            self._pending = []
        self._pending.append((kind, payload))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())

    def deliver_on_demand(self, deliver: Callable[[str, Payload], Awaitable[bool]]) -> None:
        """Deliver every event, in order, by awaiting `deliver(kind, payload)`, from a task
        started when an event arrives and ended when none is left (instead of a pump task
        per socket). `deliver` returning False stops delivery for good (socket closing)."""
        self._deliver = deliver
        if self._inbox is not None:
            while not self._inbox.empty():
                self.post(*self._inbox.get_nowait())
            self._inbox = None

    async def _drain(self) -> None:
        try:
            while self._pending and self._deliver is not None:
                kind, payload = self._pending.pop(0)
                if not self._pending:
                    self._pending = None  # an idle socket keeps no list
                if not await self._deliver(kind, payload):
                    self._deliver = _dropped
                    self._pending = None
        finally:
            self._drainer = None

    async def stop_delivery(self) -> None:
        """Stop delivering (the socket is closing); waits for a delivery in progress to end."""
        self._deliver = _dropped
        self._pending = None
        drainer = self._drainer
        if drainer is not None and drainer is not asyncio.current_task():
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer

    async def follow(self, conversation_id: str, *, with_conversation: bool) -> Feed:
        feed = self.feeds.get(conversation_id)
        if feed is None:
            feed = Feed(self, conversation_id, with_conversation=with_conversation)
            self.feeds[conversation_id] = feed
            await self.rt.bus.subscribe(conversation_topic(conversation_id), feed.handler)
        return feed

    async def unfollow(self, conversation_id: str) -> None:
        feed = self.feeds.pop(conversation_id, None)
        if feed is not None:
            await self.rt.bus.unsubscribe(conversation_topic(conversation_id), feed.handler)

    async def close_feeds(self) -> None:
        for conversation_id in list(self.feeds):
            await self.unfollow(conversation_id)

    async def close(self, code: int) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code)


async def _dropped(_kind: str, _payload: Payload) -> bool:
    return False


class Feed:
    """One conversation as seen by one socket: messages go out once each, in seq order.

    A live publication is sent as is when it is the next number; a gap (a publication lost
    or overtaken) is filled from the database; an old number is dropped.
    """

    def __init__(
        self, connection: Connection, conversation_id: str, *, with_conversation: bool
    ) -> None:
        self.connection = connection
        self.conversation_id = conversation_id
        self.with_conversation = with_conversation
        self.last_seq: int | None = None  # None until the client said where it is (resume)
        self._lock = asyncio.Lock()
        self.handler: Callable[[Payload], None] = lambda payload: connection.post(
            conversation_id, payload
        )

    async def replay(self, after_seq: int) -> None:
        async with self._lock:
            self.last_seq = after_seq
            await self._catch_up()

    async def _catch_up(self) -> None:
        assert self.last_seq is not None
        while True:
            async with self.connection.rt.reading() as session:
                missing = await queries.messages_after(
                    session, self.connection.rt.keyring, self.conversation_id, self.last_seq
                )
            for message in missing:
                await self.connection.send(message.frame(with_conversation=self.with_conversation))
                self.last_seq = message.seq
            if len(missing) < queries.REPLAY_LIMIT:
                return

    async def on_message(self, frame: Payload) -> None:
        async with self._lock:
            if self.last_seq is None:
                return  # the coming replay will include it
            seq = int(frame["seq"])
            if seq <= self.last_seq:
                return
            if seq == self.last_seq + 1:
                if not self.with_conversation:
                    frame = {k: v for k, v in frame.items() if k != "conversation_id"}
                await self.connection.send(frame)
                self.last_seq = seq
            else:
                await self._catch_up()

    async def resync(self) -> None:
        async with self._lock:
            if self.last_seq is not None:
                await self._catch_up()
