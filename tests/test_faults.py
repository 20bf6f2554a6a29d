"""Faults on the multi-node setup (bounded in time): a node killed mid-conversation, Redis
restarted, PostgreSQL unreachable for a few seconds. Each test reports what was sent, stored
and delivered; nothing may be lost or duplicated."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from confide.conversations import queries
from confide.runtime import Runtime
from confide.settings import Settings
from tests.clients import (
    FrameSocket,
    officer_takes,
    send_text,
    start_conversation,
    visitor_socket,
)
from tests.conftest import BACKEND, LiveServer, Persona, free_port, start_server

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="faults of the multi-node setup need PostgreSQL + Redis"
)


async def stored_bodies(rt: Runtime, conversation_id: str, author: str) -> list[str]:
    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
    return [m.body for m in messages if m.author == author]


async def received(ws: FrameSocket, author: str, count: int, timeout: float = 15) -> list[str]:
    return [
        (await ws.expect("message", timeout=timeout, author=author))["body"] for _ in range(count)
    ]


async def paired(
    visitor_node: LiveServer, staff_node: LiveServer, persona: Persona
) -> tuple[str, str, FrameSocket, FrameSocket]:
    conversation_id, token = await start_conversation(visitor_node)
    visitor, _ = await visitor_socket(visitor_node, token)
    officer = await officer_takes(staff_node, persona, conversation_id)
    await visitor.expect("assigned")
    return conversation_id, token, visitor, officer


def report(name: str, sent: int, stored: int, delivered: int) -> None:
    print(f"\n[fault] {name}: sent {sent}, stored {stored}, delivered {delivered}")


# ---- a node dies ---------------------------------------------------------------------------


async def test_killed_node_clients_resume_on_the_other(
    migrated: Settings, data_dir: Path, rt: Runtime, officer_paris: Persona
) -> None:
    node_a = start_server(migrated, data_dir / "fault-a.log")
    node_b = start_server(migrated, data_dir / "fault-b.log")
    try:
        conversation_id, token, visitor, officer = await paired(node_a, node_b, officer_paris)
        for n in range(3):
            await send_text(visitor, f"avant {n}")
        # A message in flight when the node dies: its ack may never come.
        in_flight = str(uuid.uuid4())
        await visitor.send({"type": "send", "client_id": in_flight, "body": "en vol"})
        node_a.process.send_signal(signal.SIGKILL)
        node_a.process.wait(10)
        # Meanwhile the officer (on the surviving node) keeps writing.
        for n in range(3):
            await send_text(officer, f"pendant {n}", conversation_id=conversation_id)
        # The visitor reconnects to node B, resumes from its last seq and resends what was unacked.
        seen = [f["seq"] for f in visitor.seen if f.get("type") == "message"]
        visitor, _ = await visitor_socket(node_b, token, resume=max(seen))
        await send_text(visitor, "en vol", client_id=in_flight)
        await send_text(visitor, "après")
        officer_view = await received(officer, "visitor", 5)
        visitor_view = await received(visitor, "officer", 3)
        stored = await stored_bodies(rt, conversation_id, "visitor")
        assert stored == ["avant 0", "avant 1", "avant 2", "en vol", "après"]
        assert officer_view == stored
        assert visitor_view == ["pendant 0", "pendant 1", "pendant 2"]
        later = [
            f
            for f in await officer.quiet(0.5)
            if f.get("type") == "message" and f["author"] == "visitor"
        ]
        assert later == [], "no visitor message delivered twice"
        report(
            "node killed",
            sent=8,
            stored=len(stored) + 3,
            delivered=len(officer_view) + len(visitor_view),
        )
        await visitor.close()
        await officer.close()
    finally:
        node_a.stop()
        node_b.stop()


# ---- Redis restarts ------------------------------------------------------------------------


@contextlib.contextmanager
def private_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


async def wait_port(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


async def test_redis_restart_delivery_resumes(
    migrated: Settings, data_dir: Path, rt: Runtime, officer_paris: Persona
) -> None:
    port = free_port()
    settings = migrated.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    with private_redis(port) as redis:
        await wait_port(port)
        node_a = start_server(settings, data_dir / "redis-a.log")
        node_b = start_server(settings, data_dir / "redis-b.log")
        try:
            conversation_id, _, visitor, officer = await paired(node_a, node_b, officer_paris)
            await send_text(visitor, "avant la coupure")
            assert await received(officer, "visitor", 1) == ["avant la coupure"]
            redis.terminate()
            redis.wait(10)
            # Sent while Redis is down: committed, acknowledged, but no node hears of it.
            for n in range(3):
                await send_text(visitor, f"sans redis {n}")
            with private_redis(port):
                await wait_port(port)
                # Both nodes reconnect and catch up from the database.
                officer_view = await received(officer, "visitor", 3, timeout=20)
                await send_text(officer, "redis est revenu", conversation_id=conversation_id)
                assert (await visitor.expect("message", timeout=20, author="officer"))[
                    "body"
                ] == "redis est revenu"
            stored = await stored_bodies(rt, conversation_id, "visitor")
            assert officer_view == ["sans redis 0", "sans redis 1", "sans redis 2"]
            assert stored == ["avant la coupure", *officer_view]
            report(
                "redis restarted",
                sent=5,
                stored=len(stored) + 1,
                delivered=1 + len(officer_view) + 1,
            )
            await visitor.close()
            await officer.close()
        finally:
            node_a.stop()
            node_b.stop()


# ---- PostgreSQL unreachable ------------------------------------------------------------------


class Proxy:
    """A TCP proxy to PostgreSQL that can cut every connection and refuse new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.base_events.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.links):
            writer.close()
        self.links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.links.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def pg_proxy() -> AsyncIterator[Proxy]:
    proxy = Proxy(5432)
    await proxy.start()
    yield proxy
    with contextlib.suppress(Exception):
        await proxy.cut()


async def test_database_outage_loses_nothing(
    migrated: Settings, data_dir: Path, rt: Runtime, officer_paris: Persona, pg_proxy: Proxy
) -> None:
    url = migrated.resolved_database_url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    # Started from a thread: the proxy it connects through runs on this event loop.
    node = await asyncio.to_thread(
        start_server, migrated.model_copy(update={"database_url": url}), data_dir / "pg-outage.log"
    )
    try:
        conversation_id, token, visitor, officer = await paired(node, node, officer_paris)
        await send_text(visitor, "avant la panne")
        await pg_proxy.cut()
        # During the outage the visitor gets a clear error, never a silent drop.
        lost_ack = str(uuid.uuid4())
        await visitor.send({"type": "send", "client_id": lost_ack, "body": "pendant la panne"})
        frame: dict[str, Any] = await visitor.expect("error", timeout=20)
        assert frame["code"] == "unavailable"
        assert "kept" in frame["message"]
        # A page (re)loaded during the outage is told to come back, not that its token is
        # invalid (which would make it forget the conversation).
        async with websockets.connect(f"{node.ws_url}/ws/visitor?lang=en") as raw:
            await raw.send(json.dumps({"type": "auth", "token": token}))
            refused = json.loads(await asyncio.wait_for(raw.recv(), 20))
            assert refused["code"] == "unavailable"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(raw.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013
        await asyncio.sleep(1)
        await pg_proxy.start()
        # The client retries the same message (as the page does): stored once.
        for _ in range(40):
            with contextlib.suppress(AssertionError, OSError):
                visitor, _ = await visitor_socket(node, token, resume=None)
                ack = await send_text(visitor, "pendant la panne", client_id=lost_ack)
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError("the visitor could not send after the database came back")
        await send_text(visitor, "après la panne")
        stored = await stored_bodies(rt, conversation_id, "visitor")
        assert stored == ["avant la panne", "pendant la panne", "après la panne"]
        assert ack["seq"] > 0
        # The officer's console hears of each message once.
        officer_view = await received(officer, "visitor", 3)
        assert officer_view == stored
        report("database unreachable", sent=3, stored=len(stored), delivered=len(officer_view))
        await visitor.close()
        with contextlib.suppress(Exception):
            await officer.close()
    finally:
        node.stop()
