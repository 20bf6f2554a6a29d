"""Confide load benchmark (issue 7): `python bench/run.py [--quick]`.

Starts real servers as subprocesses (`confide migrate`, `confide create-staff`, `confide serve`)
and drives the real protocol (DESIGN.md §4) from ONE asyncio process:

- visitors: `POST /api/conversations`, `/ws/visitor` (`auth`, then `resume`), `send` + `ack`;
- officers: the real login form (CSRF field and cookie, password, TOTP from pyotp), then
  `/ws/staff` with the session cookie and an Origin header, `take`, `send` + `ack`.

Scenarios: assignment latency, peak throughput, latency at 1,000 conversations (1 message per
5 s per side), memory per idle visitor socket, the same throughput shape against a minimal
relay on the `websockets` library (bench/baseline_relay.py), and one vs two nodes on
PostgreSQL + Redis. The server is profiled with py-spy when it is installed.

Prints a table with each target met / not met and writes it to bench/RESULTS.md
(bench/RESULTS.quick.md with --quick). A missed target never makes this exit non-zero.
Load-only settings given to the server: see `LOAD_ENV`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pyotp
import websockets
from websockets.asyncio.client import ClientConnection

BENCH = Path(__file__).resolve().parent
PY = sys.executable
PG_ADMIN = ["-h", "127.0.0.1", "-U", "postgres"]
PG_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
KEEP_MARKER = "<!-- Everything below this line is hand-written and kept by bench/run.py. -->"

#: Settings that would otherwise throttle a load generator that sends everything from
#: 127.0.0.1 with a handful of accounts. Production keeps the defaults.
LOAD_ENV = {
    # Per-socket anti-flood limit (20 messages / 10 s): a benchmark sends far more.
    "CONFIDE_MESSAGES_PER_10S": "100000000",
    # Per-network limit on new conversations: every simulated visitor is 127.0.0.1.
    "CONFIDE_CONVERSATIONS_PER_HOUR_PER_NETWORK": "100000000",
    # Capacity per officer (default 3): few accounts hold many conversations here.
    "CONFIDE_ROUTING_DEFAULT_CAPACITY": "100000",
}

BODY_PAD = "x" * 80  # a typical short chat line


# --- measurement helpers ------------------------------------------------------------------


def now_ns() -> int:
    return time.perf_counter_ns()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


@dataclass
class Stats:
    """Messages delivered to the peer and their end-to-end latency (ms), within the window."""

    measuring: bool = False
    delivered: int = 0
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def body(self) -> str:
        return f"{now_ns()};{BODY_PAD}"

    def on_delivered(self, body: str) -> None:
        if not self.measuring:
            return
        try:
            sent_ns = int(body.split(";", 1)[0])
        except ValueError:
            self.errors["unparsable body"] += 1
            return
        self.delivered += 1
        self.latencies.append((now_ns() - sent_ns) / 1e6)


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Node:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Deployment:
    """A data dir + database (+ Redis) with migrated tables and officer accounts."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    src: str | None
    accounts: list[tuple[str, str, str]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
        env["CONFIDE_DATA_DIR"] = str(self.data_dir)
        env["CONFIDE_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["CONFIDE_REDIS_URL"] = self.redis_url
        env.update(LOAD_ENV)
        if self.src:
            env["PYTHONPATH"] = self.src
        return env

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [PY, "-m", "confide.cli", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"confide {' '.join(args[:1])} failed:\n{result.stderr}")
        return result.stdout

    def prepare(self, officers: int) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        for i in range(officers):
            username = f"bench-officer-{i}-{uuid.uuid4().hex[:6]}"
            password = f"bench-{uuid.uuid4().hex}"
            secret = pyotp.random_base32()
            self.cli(
                "create-staff",
                "--role",
                "officer",
                "--username",
                username,
                "--password",
                password,
                "--totp-secret",
                secret,
            )
            self.accounts.append((username, password, secret))

    def start(self, name: str) -> Node:
        port = free_port()
        log_path = self.data_dir / f"{name}.log"
        process = subprocess.Popen(
            [PY, "-m", "confide.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env(),
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        node = Node(name, process, port, log_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{node.url}/healthz", timeout=1).status_code == 200:
                    return node
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        node.stop()
        raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")


# --- protocol clients ---------------------------------------------------------------------

ACK_TIMEOUT = 15.0


async def connect(url: str, **kwargs: Any) -> ClientConnection:
    return await websockets.connect(
        url, compression=None, open_timeout=30, ping_interval=None, max_queue=None, **kwargs
    )


class VisitorClient:
    """One visitor socket: its acks, the officer's messages, `assigned`."""

    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws = ws
        self.stats = stats
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.assigned: asyncio.Future[int] = loop.create_future()
        self.pending: dict[str, asyncio.Future[None]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, node: Node, token: str, stats: Stats) -> VisitorClient:
        client = cls(await connect(f"{node.ws_url}/ws/visitor?lang=en"), stats)
        await client.ws.send(json.dumps({"type": "auth", "token": token}))
        await asyncio.wait_for(client.ready, 30)
        await client.ws.send(json.dumps({"type": "resume", "after_seq": 0}))
        return client

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    future = self.pending.pop(frame.get("client_id"), None)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif kind == "message":
                    if frame.get("author") not in ("visitor", "system"):
                        self.stats.on_delivered(frame.get("body", ""))
                elif kind == "assigned":
                    if not self.assigned.done():
                        self.assigned.set_result(now_ns())
                elif kind == "ready":
                    if not self.ready.done():
                        self.ready.set_result(frame)
                elif kind == "error":
                    self.stats.errors[f"visitor error {frame.get('code')}"] += 1

    async def send(self, body: str) -> None:
        client_id = str(uuid.uuid4())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[client_id] = future
        await self.ws.send(json.dumps({"type": "send", "client_id": client_id, "body": body}))
        await asyncio.wait_for(future, ACK_TIMEOUT)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()


class OfficerClient:
    """One staff console socket; it may hold many conversations."""

    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws = ws
        self.stats = stats
        loop = asyncio.get_running_loop()
        self.hello: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.opened: dict[str, asyncio.Future[int]] = {}
        self.pending: dict[str, asyncio.Future[None]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, node: Node, cookie: str, stats: Stats) -> OfficerClient:
        ws = await connect(
            f"{node.ws_url}/ws/staff?lang=en",
            additional_headers={"Cookie": cookie},
            origin=websockets.Origin(node.url),
        )
        client = cls(ws, stats)
        await asyncio.wait_for(client.hello, 30)
        return client

    def _opened_future(self, conversation_id: str) -> asyncio.Future[int]:
        future = self.opened.get(conversation_id)
        if future is None:
            future = self.opened[conversation_id] = asyncio.get_running_loop().create_future()
        return future

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    future = self.pending.pop(frame.get("client_id"), None)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif kind == "message":
                    if frame.get("author") == "visitor":
                        self.stats.on_delivered(frame.get("body", ""))
                elif kind == "opened":
                    # After our `take`, or without one if the server assigned it to us.
                    conversation_id = frame["conversation"]["conversation_id"]
                    future = self._opened_future(conversation_id)
                    if not future.done():
                        future.set_result(now_ns())
                elif kind == "hello":
                    if not self.hello.done():
                        self.hello.set_result(frame)
                elif kind == "error":
                    self.stats.errors[f"officer error {frame.get('code')}"] += 1

    async def take(self, conversation_id: str) -> None:
        future = self._opened_future(conversation_id)
        if not future.done():
            await self.ws.send(json.dumps({"type": "take", "conversation_id": conversation_id}))
        await asyncio.wait_for(future, 30)

    async def send(self, conversation_id: str, body: str) -> None:
        client_id = str(uuid.uuid4())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[client_id] = future
        await self.ws.send(
            json.dumps(
                {
                    "type": "send",
                    "conversation_id": conversation_id,
                    "client_id": client_id,
                    "body": body,
                }
            )
        )
        await asyncio.wait_for(future, ACK_TIMEOUT)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()


async def staff_login(node: Node, username: str, password: str, secret: str) -> str:
    """The real form: GET for the CSRF field and cookie, POST with password and TOTP."""
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
        page = await client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if csrf is None:
            raise RuntimeError("no csrf field on /staff/login")
        response = await client.post(
            "/staff/login",
            data={
                "username": username,
                "password": password,
                "code": pyotp.TOTP(secret).now(),
                "csrf": csrf.group(1),
            },
        )
        if response.status_code != 303:
            raise RuntimeError(f"login failed: {response.status_code} {response.text[:300]}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def login_all(node: Node, accounts: list[tuple[str, str, str]]) -> list[str]:
    # Each account logs in once per run (a TOTP code is accepted once); sessions are reused.
    return list(await asyncio.gather(*(staff_login(node, *a) for a in accounts)))


async def start_conversation(http: httpx.AsyncClient) -> tuple[str, str]:
    for attempt in range(3):
        try:
            response = await http.post(
                "/api/conversations",
                json={"channel": "domestic", "role": "victim", "postcode": "75011", "lang": "en"},
            )
            break
        except httpx.TransportError:
            # A pooled keep-alive connection closed by the server as it was reused: retry.
            if attempt == 2:
                raise
            await asyncio.sleep(0.1)
    if response.status_code != 201:
        raise RuntimeError(f"start conversation: {response.status_code} {response.text[:300]}")
    data = response.json()
    return data["conversation_id"], data["token"]


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


@dataclass
class Pair:
    conversation_id: str
    visitor: VisitorClient
    officer: OfficerClient


async def open_pairs(
    visitor_node: Node,
    officer_node: Node,
    cookies: list[str],
    count: int,
    stats: Stats,
    *,
    per_officer_socket: int,
) -> tuple[list[Pair], list[OfficerClient]]:
    """`count` conversations, each taken by an officer socket holding `per_officer_socket`."""
    sockets = max(1, -(-count // per_officer_socket))
    officers = await bounded(
        20,
        [
            (lambda i=i: OfficerClient.open(officer_node, cookies[i % len(cookies)], stats))
            for i in range(sockets)
        ],
    )
    async with httpx.AsyncClient(base_url=visitor_node.url, timeout=30) as http:

        async def one(i: int) -> Pair:
            conversation_id, token = await start_conversation(http)
            visitor = await VisitorClient.open(visitor_node, token, stats)
            officer = officers[i // per_officer_socket]
            await officer.take(conversation_id)
            await asyncio.wait_for(visitor.assigned, 30)
            return Pair(conversation_id, visitor, officer)

        pairs = await bounded(20, [(lambda i=i: one(i)) for i in range(count)])
    return pairs, officers


async def close_all(pairs: list[Pair], officers: list[OfficerClient]) -> None:
    await bounded(100, [p.visitor.close for p in pairs])
    await bounded(100, [o.close for o in officers])


# --- scenarios ----------------------------------------------------------------------------


@dataclass
class Throughput:
    label: str
    conversations: int
    seconds: float
    delivered: int
    rate: float
    p50: float | None
    p99: float | None
    errors: dict[str, int]
    #: Where the CPU went during the run, in % of one core: "machine" (all cores, of
    #: 100 × cores), "server" (the Confide node processes), "generator" (this process).
    cpu: dict[str, float] = field(default_factory=dict)


async def drive(
    senders: list[Callable[[str], Awaitable[None]]],
    stats: Stats,
    *,
    warmup: float,
    measure: float,
    interval: float | None = None,
) -> float:
    """Every sender loops until the end: back to back (interval None) or one message per
    `interval` seconds starting at a random offset. Returns the measured window length."""
    loop = asyncio.get_running_loop()
    end = loop.time() + warmup + measure

    async def run(send: Callable[[str], Awaitable[None]]) -> None:
        if interval is not None:
            await asyncio.sleep(random.uniform(0, interval))
        while loop.time() < end:
            started = loop.time()
            try:
                await send(stats.body())
                stats.sent += 1
            except TimeoutError:
                stats.errors["ack timeout"] += 1
            except websockets.ConnectionClosed:
                stats.errors["connection closed"] += 1
                return
            if interval is not None:
                await asyncio.sleep(max(0.0, started + interval - loop.time()))

    async def window() -> float:
        await asyncio.sleep(warmup)
        stats.measuring, stats.delivered, stats.latencies = True, 0, []
        begun = loop.time()
        await asyncio.sleep(measure)
        stats.measuring = False
        return loop.time() - begun

    tasks = [asyncio.create_task(run(s)) for s in senders]
    measured = await window()
    await asyncio.wait(tasks, timeout=ACK_TIMEOUT + 5)
    for task in tasks:
        task.cancel()
    return measured


def pair_senders(pairs: list[Pair]) -> list[Callable[[str], Awaitable[None]]]:
    senders: list[Callable[[str], Awaitable[None]]] = []
    for pair in pairs:
        senders.append(pair.visitor.send)
        senders.append(
            lambda body, o=pair.officer, c=pair.conversation_id: o.send(c, body)  # type: ignore[misc]
        )
    return senders


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _process_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


class CpuMeter:
    """CPU used by the machine, the server processes and this load generator over a span."""

    def __init__(self, nodes: list[Node]) -> None:
        self.pids = sorted({n.process.pid for n in nodes})
        self.began = time.monotonic()
        self.machine = _machine_ticks()
        self.server = sum(_process_seconds(pid) for pid in self.pids)
        self.generator = time.process_time()

    def read(self) -> dict[str, float]:
        wall = time.monotonic() - self.began
        busy, total = _machine_ticks()
        cores = os.cpu_count() or 1
        server = sum(_process_seconds(pid) for pid in self.pids) - self.server
        return {
            "machine": 100 * cores * (busy - self.machine[0]) / max(1, total - self.machine[1]),
            "server": 100 * server / wall,
            "generator": 100 * (time.process_time() - self.generator) / wall,
        }


def summarise(label: str, conversations: int, stats: Stats, seconds: float) -> Throughput:
    return Throughput(
        label,
        conversations,
        seconds,
        stats.delivered,
        stats.delivered / seconds if seconds else 0.0,
        pct(stats.latencies, 50),
        pct(stats.latencies, 99),
        dict(stats.errors),
    )


async def scenario_assignment(node: Node, cookie: str, count: int) -> dict[str, Any]:
    """Visitor waiting on its socket; officer sends `take`; time until the visitor gets
    `assigned` (and until the officer gets `opened`)."""
    stats = Stats()
    officer = await OfficerClient.open(node, cookie, stats)
    to_visitor: list[float] = []
    to_officer: list[float] = []
    visitors = []
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        for _ in range(count):
            conversation_id, token = await start_conversation(http)
            visitor = await VisitorClient.open(node, token, stats)
            visitors.append(visitor)
            await asyncio.sleep(0.06)  # let the queue broadcast of the new arrival settle
            t0 = now_ns()
            await officer.take(conversation_id)
            assigned = await asyncio.wait_for(visitor.assigned, 30)
            to_visitor.append((assigned - t0) / 1e6)
            to_officer.append((officer.opened[conversation_id].result() - t0) / 1e6)
    await bounded(50, [v.close for v in visitors])
    await officer.close()
    return {
        "count": count,
        "visitor_p50": pct(to_visitor, 50),
        "visitor_p99": pct(to_visitor, 99),
        "visitor_max": max(to_visitor),
        "officer_p50": pct(to_officer, 50),
        "errors": dict(stats.errors),
    }


async def scenario_throughput(
    label: str,
    visitor_node: Node,
    officer_node: Node,
    cookies: list[str],
    conversations: int,
    warmup: float,
    measure: float,
    *,
    during: Callable[[], Awaitable[Any]] | None = None,
) -> Throughput:
    stats = Stats()
    pairs, officers = await open_pairs(
        visitor_node, officer_node, cookies, conversations, stats, per_officer_socket=1
    )
    side = asyncio.create_task(during()) if during is not None else None
    meter = CpuMeter([visitor_node, officer_node])
    seconds = await drive(pair_senders(pairs), stats, warmup=warmup, measure=measure)
    cpu = meter.read()
    if side is not None:
        await side
    await close_all(pairs, officers)
    return replace(summarise(label, conversations, stats, seconds), cpu=cpu)


async def scenario_paced(
    node: Node,
    cookies: list[str],
    conversations: int,
    per_officer_socket: int,
    interval: float,
    warmup: float,
    measure: float,
) -> tuple[Throughput, float]:
    stats = Stats()
    began = time.monotonic()
    pairs, officers = await open_pairs(
        node, node, cookies, conversations, stats, per_officer_socket=per_officer_socket
    )
    setup = time.monotonic() - began
    seconds = await drive(
        pair_senders(pairs), stats, warmup=warmup, measure=measure, interval=interval
    )
    await close_all(pairs, officers)
    label = f"{conversations} conversations, 1 msg / {interval:g} s per side"
    return summarise(label, conversations, stats, seconds), setup


async def scenario_idle_memory(node: Node, count: int) -> dict[str, Any]:
    """RSS growth of the server for `count` idle visitor sockets (authenticated, resumed,
    waiting in the queue). Conversations are created first so only sockets are counted."""
    stats = Stats()
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        warm = await bounded(10, [lambda: start_conversation(http) for _ in range(20)])
        tokens = await bounded(20, [lambda: start_conversation(http) for _ in range(count)])
    warm_clients = await bounded(
        20, [(lambda t=t: VisitorClient.open(node, t, stats)) for _, t in warm]
    )
    await bounded(20, [c.close for c in warm_clients])
    await asyncio.sleep(2)
    before = node.rss_kb()
    clients = await bounded(
        50, [(lambda t=t: VisitorClient.open(node, t, stats)) for _, t in tokens]
    )
    await asyncio.sleep(3)
    after = node.rss_kb()
    await bounded(100, [c.close for c in clients])
    return {
        "count": count,
        "before_kb": before,
        "after_kb": after,
        "per_socket_kb": (after - before) / count,
        "errors": dict(stats.errors),
    }


# --- baseline relay -----------------------------------------------------------------------


class RelayClient:
    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws = ws
        self.stats = stats
        self.pending: dict[str, asyncio.Future[None]] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    future = self.pending.pop(frame.get("client_id"), None)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif kind == "message":
                    self.stats.on_delivered(frame.get("body", ""))
                elif kind == "ready" and not self.ready.done():
                    self.ready.set_result(None)

    async def send(self, body: str) -> None:
        client_id = str(uuid.uuid4())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[client_id] = future
        await self.ws.send(json.dumps({"type": "send", "client_id": client_id, "body": body}))
        await asyncio.wait_for(future, ACK_TIMEOUT)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()


async def scenario_baseline(
    port: int, conversations: int, warmup: float, measure: float
) -> Throughput:
    stats = Stats()

    async def client(pair: str, side: str) -> RelayClient:
        c = RelayClient(await connect(f"ws://127.0.0.1:{port}/"), stats)
        await c.ws.send(json.dumps({"type": "auth", "pair": pair, "side": side}))
        await asyncio.wait_for(c.ready, 30)
        return c

    clients = await bounded(
        20,
        [
            (lambda i=i, s=s: client(f"pair-{i}", s))
            for i in range(conversations)
            for s in ("a", "b")
        ],
    )
    seconds = await drive([c.send for c in clients], stats, warmup=warmup, measure=measure)
    await bounded(100, [c.close for c in clients])
    return summarise("baseline relay (websockets + aiosqlite)", conversations, stats, seconds)


def start_baseline(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [PY, str(BENCH / "baseline_relay.py"), "--port", str(port), "--db", str(work / "relay.db")],
        stdout=(work / "relay.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return process, port
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("baseline relay did not start")


# --- profiling ----------------------------------------------------------------------------


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    return found if Path(found).exists() else None


async def profile(pid: int, seconds: int) -> dict[str, Any]:
    """py-spy on the server: a flame graph (profile.svg) and folded stacks (profile.folded)."""
    exe = py_spy()
    if exe is None:
        return {"error": "py-spy not installed"}
    common = ["record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100"]
    common.append("--nonblocking")
    runs = [
        await asyncio.create_subprocess_exec(
            exe,
            *common,
            "--format",
            fmt,
            "-o",
            str(BENCH / out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for fmt, out in (("flamegraph", "profile.svg"), ("raw", "profile.folded"))
    ]
    for run in runs:
        _, err = await run.communicate()
        if run.returncode != 0:
            return {"error": err.decode(errors="replace")[-500:]}
    return summarise_profile(BENCH / "profile.folded")


def _frame_name(frame: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:123)"
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    return f"{function} ({_short(path)})"


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _package(frame: str) -> str:
    match = re.match(r".* \((.*?)(?::\d+)?\)$", frame)
    path = _short(match.group(1)) if match else frame
    if path.startswith("confide/"):
        return "/".join(path.split("/")[:2]).removesuffix(".py")
    return path.split("/", 1)[0].removesuffix(".py")


def summarise_profile(folded: Path) -> dict[str, Any]:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_time[_frame_name(frames[-1])] += count
        packages[_package(frames[-1])] += count
        for name in {_frame_name(f) for f in frames}:
            inclusive[name] += count

    def top(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(name, 100 * c / total) for name, c in counter.most_common(n)] if total else []

    return {
        "samples": total,
        "self": top(self_time, 15),
        "inclusive": top(inclusive, 30),
        "packages": top(packages, 15),
    }


# --- report -------------------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "kernel": platform.release(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def build_report(
    results: dict[str, Any], args: argparse.Namespace, command: str, elapsed: float
) -> str:
    facts = machine_facts()
    rows: list[tuple[str, str, str, str]] = []
    tp: Throughput | None = results.get("throughput")
    base: Throughput | None = results.get("baseline")
    if tp:
        rows.append(
            (
                f"Confide throughput, 1 node SQLite, {tp.conversations} conversations",
                f"{tp.rate:,.0f} msg/s (p50 {fmt_ms(tp.p50)}, p99 {fmt_ms(tp.p99)})",
                "",
                "",
            )
        )
    if base:
        rows.append(
            (
                f"Baseline relay (websockets + aiosqlite), {base.conversations} pairs",
                f"{base.rate:,.0f} msg/s (p50 {fmt_ms(base.p50)}, p99 {fmt_ms(base.p99)})",
                "",
                "",
            )
        )
    if tp and base and base.rate:
        ratio = tp.rate / base.rate
        rows.append(("Confide / baseline", f"{100 * ratio:.0f}%", "≥ 60%", mark(ratio >= 0.6)))
    paced: Throughput | None = results.get("paced")
    if paced:
        rows.append(
            (
                f"Latency at {paced.label}",
                f"p50 {fmt_ms(paced.p50)}, p99 {fmt_ms(paced.p99)} ({paced.rate:,.0f} msg/s delivered)",
                "p99 ≤ 50 ms",
                mark(paced.p99 is not None and paced.p99 <= 50),
            )
        )
    idle = results.get("idle")
    if idle:
        rows.append(
            (
                f"Memory per idle visitor socket ({idle['count']} sockets)",
                f"{idle['per_socket_kb']:.1f} KB (RSS {idle['before_kb'] / 1024:.0f} → {idle['after_kb'] / 1024:.0f} MB)",
                "≤ 40 KB",
                mark(idle["per_socket_kb"] <= 40),
            )
        )
    assign = results.get("assignment")
    if assign:
        rows.append(
            (
                f"Assignment latency, `take` → visitor's `assigned` ({assign['count']} takes)",
                f"p50 {fmt_ms(assign['visitor_p50'])}, p99 {fmt_ms(assign['visitor_p99'])}",
                "≤ 100 ms (p99)",
                mark(assign["visitor_p99"] is not None and assign["visitor_p99"] <= 100),
            )
        )
    pg1: Throughput | None = results.get("pg1")
    pg2: Throughput | None = results.get("pg2")
    if pg1:
        rows.append(
            (
                f"Throughput, 1 node PostgreSQL + Redis, {pg1.conversations} conversations",
                f"{pg1.rate:,.0f} msg/s (p50 {fmt_ms(pg1.p50)}, p99 {fmt_ms(pg1.p99)})",
                "",
                "",
            )
        )
    if pg2:
        rows.append(
            (
                f"Throughput, 2 nodes PostgreSQL + Redis, {pg2.conversations} conversations",
                f"{pg2.rate:,.0f} msg/s (p50 {fmt_ms(pg2.p50)}, p99 {fmt_ms(pg2.p99)})",
                "",
                "",
            )
        )
    if pg1 and pg2 and pg1.rate:
        ratio = pg2.rate / pg1.rate
        rows.append(("2 nodes / 1 node", f"{ratio:.2f}×", "≥ 1.7×", mark(ratio >= 1.7)))

    lines = [
        "# Confide benchmark results" + (" (quick run)" if args.quick else ""),
        "",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Machine: {facts['nproc']} CPU(s), {facts['cpu']}, Linux {facts['kernel']}",
        f"- Python {facts['python']}, websockets {facts['websockets']} (load generator and servers)",
        f"- Command: `{command}` (took {elapsed:.0f} s)",
        "- Load generator: one asyncio process (uvloop) on the same cores as the servers, "
        "PostgreSQL and Redis; traffic to 127.0.0.1 only.",
        f"- Load average (1, 5, 15 min) at the start: {results.get('loadavg', 'n/a')}, at the "
        f"end: {facts['loadavg']} (other processes on the machine compete for the same cores).",
        "- Server settings lifted for the load (production keeps the defaults): "
        + ", ".join(f"`{k}={v}`" for k, v in LOAD_ENV.items()),
        "",
        "| figure | measured | target | status |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "## Details",
        "",
    ]
    for key in ("throughput", "baseline", "paced", "pg1", "pg2"):
        item: Throughput | None = results.get(key)
        if item:
            lines.append(
                f"- **{key}** — {item.label}: {item.delivered:,} messages delivered in "
                f"{item.seconds:.1f} s = {item.rate:,.0f} msg/s; latency send → peer's "
                f"`message` p50 {fmt_ms(item.p50)}, p99 {fmt_ms(item.p99)}; "
                f"errors: {item.errors or 'none'}"
                + (
                    f"; CPU (% of one core): machine {item.cpu['machine']:.0f} of "
                    f"{100 * (os.cpu_count() or 1)}, Confide node(s) {item.cpu['server']:.0f}, "
                    f"load generator {item.cpu['generator']:.0f}"
                    if item.cpu
                    else ""
                )
            )
    if assign:
        lines.append(
            f"- **assignment** — {assign['count']} sequential takes: visitor `assigned` p50 "
            f"{fmt_ms(assign['visitor_p50'])}, p99 {fmt_ms(assign['visitor_p99'])}, max "
            f"{fmt_ms(assign['visitor_max'])}; officer `opened` p50 {fmt_ms(assign['officer_p50'])}; "
            f"errors: {assign['errors'] or 'none'}"
        )
    if idle:
        lines.append(
            f"- **idle** — VmRSS {idle['before_kb']:,} KB before, {idle['after_kb']:,} KB after "
            f"{idle['count']} idle visitor sockets; errors: {idle['errors'] or 'none'}"
        )
    if "paced_setup_s" in results:
        lines.append(
            f"- Setting up the paced scenario (start, connect, take) took {results['paced_setup_s']:.1f} s."
        )
    for failure in results.get("failures", []):
        lines.append(f"- **scenario failed**: {failure}")
    prof = results.get("profile")
    if prof:
        lines += ["", "## Profile (py-spy, server under the throughput scenario)", ""]
        if "error" in prof:
            lines.append(f"py-spy failed: {prof['error']}")
        else:
            lines += [
                f"{prof['samples']:,} samples at 100 Hz (all threads), files `bench/profile.svg` "
                "(flame graph) and `bench/profile.folded` (folded stacks, e.g. for speedscope). "
                "Percentages are of all samples.",
                "",
                "Self time by package (leaf frame):",
                "",
                *[f"- {name}: {share:.1f}%" for name, share in prof["packages"]],
                "",
                "Top frames by self time:",
                "",
                *[f"- {share:.1f}% `{name}`" for name, share in prof["self"]],
                "",
                "Top frames by inclusive time:",
                "",
                *[f"- {share:.1f}% `{name}`" for name, share in prof["inclusive"]],
            ]
    return "\n".join(lines) + "\n"


def write_report(path: Path, report: str) -> None:
    kept = ""
    if path.exists():
        old = path.read_text()
        if KEEP_MARKER in old:
            kept = old.split(KEEP_MARKER, 1)[1]
    path.write_text(report + "\n" + KEEP_MARKER + (kept or "\n"))


# --- main ---------------------------------------------------------------------------------


@dataclass
class Plan:
    officers: int
    assignment: int
    conversations: int
    warmup: float
    measure: float
    paced: int
    paced_per_socket: int
    paced_warmup: float
    paced_measure: float
    idle: int
    profile_s: int


FULL = Plan(8, 40, 100, 3, 12, 1000, 50, 5, 30, 1000, 20)
QUICK = Plan(4, 10, 30, 1, 4, 200, 50, 1, 6, 200, 0)


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


async def attempt(
    results: dict[str, Any], key: str, job: Awaitable[Any], nodes: list[Node] | None = None
) -> Any:
    """Run one scenario; a failure is recorded in the report and the run goes on."""
    try:
        results[key] = await job
        return results[key]
    except Exception as error:
        note(f"scenario {key} failed: {error!r}")
        traceback.print_exc()
        tails = [
            f"{n.name} log tail: {n.log_path.read_text(errors='replace')[-400:]!r}"
            for n in nodes or []
            if n.log_path.exists()
        ]
        results["failures"].append(f"{key}: {error!r} " + " ".join(tails))
        return None


async def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    results: dict[str, Any] = {"failures": [], "loadavg": machine_facts()["loadavg"]}

    # 1. One node on SQLite.
    sqlite = Deployment(work / "sqlite", "", None, args.src)
    sqlite.database_url = f"sqlite+aiosqlite:///{sqlite.data_dir / 'confide.db'}"
    note(f"SQLite: migrate and create {plan.officers} officer accounts")
    sqlite.prepare(plan.officers)
    node = sqlite.start("sqlite-node")
    try:
        cookies = await login_all(node, sqlite.accounts)
        note("assignment latency")
        await attempt(
            results, "assignment", scenario_assignment(node, cookies[0], plan.assignment), [node]
        )
        note(f"throughput, {plan.conversations} conversations")
        await attempt(
            results,
            "throughput",
            scenario_throughput(
                "1 node SQLite", node, node, cookies, plan.conversations, plan.warmup, plan.measure
            ),
            [node],
        )
        if plan.profile_s and not args.no_profile:
            note(f"profiling the server for {plan.profile_s} s under the same load")
            holder: dict[str, Any] = {}

            async def record() -> None:
                await asyncio.sleep(1)
                holder["profile"] = await profile(node.process.pid, plan.profile_s)

            await attempt(
                results,
                "throughput_profiled",
                scenario_throughput(
                    "1 node SQLite, under py-spy",
                    node,
                    node,
                    cookies,
                    plan.conversations,
                    1,
                    plan.profile_s + 1,
                    during=record,
                ),
                [node],
            )
            results["profile"] = holder.get("profile")
        note(f"paced: {plan.paced} conversations at 1 message / 5 s per side")
        paced = await attempt(
            results,
            "paced_run",
            scenario_paced(
                node,
                cookies,
                plan.paced,
                plan.paced_per_socket,
                5.0,
                plan.paced_warmup,
                plan.paced_measure,
            ),
            [node],
        )
        if paced is not None:
            results["paced"], results["paced_setup_s"] = paced
    finally:
        node.stop()

    # 2. Idle sockets on a fresh process and a fresh database: the conversations left waiting
    # by the scenarios above would otherwise be counted too (every queue change is sent to
    # every waiting visitor, and the garbage of those broadcasts shows in the RSS).
    fresh = Deployment(work / "sqlite-idle", "", None, args.src)
    fresh.database_url = f"sqlite+aiosqlite:///{fresh.data_dir / 'confide.db'}"
    fresh.prepare(1)
    node = fresh.start("sqlite-idle")
    try:
        note(f"memory of {plan.idle} idle visitor sockets")
        await attempt(results, "idle", scenario_idle_memory(node, plan.idle), [node])
    finally:
        node.stop()

    # 3. Baseline relay, same load shape.
    relay, port = start_baseline(work)
    try:
        note(f"baseline relay, {plan.conversations} pairs")
        await attempt(
            results,
            "baseline",
            scenario_baseline(port, plan.conversations, plan.warmup, plan.measure),
        )
    finally:
        relay.terminate()
        relay.wait(10)

    # 4. PostgreSQL + Redis: one node, then two nodes.
    if args.no_postgres:
        return results
    database = f"confide_bench_{os.getpid()}"
    created = await asyncio.to_thread(
        subprocess.run, ["createdb", *PG_ADMIN, database], capture_output=True, text=True
    )
    if created.returncode != 0:
        results["failures"].append(f"createdb: {created.stderr.strip()}")
        return results
    nodes: list[Node] = []
    try:
        pg = Deployment(work / "pg", f"{PG_BASE}/{database}", REDIS_URL, args.src)
        note("PostgreSQL: migrate and create officer accounts")
        pg.prepare(4)
        nodes.append(pg.start("pg-node-a"))
        cookies = await login_all(nodes[0], pg.accounts)
        note(f"1 node on PostgreSQL + Redis, {plan.conversations} conversations")
        await attempt(
            results,
            "pg1",
            scenario_throughput(
                "1 node PostgreSQL + Redis",
                nodes[0],
                nodes[0],
                cookies,
                plan.conversations,
                plan.warmup,
                plan.measure,
            ),
            nodes,
        )
        nodes.append(pg.start("pg-node-b"))
        note("2 nodes: visitors on node A, their officers on node B")
        await attempt(
            results,
            "pg2",
            scenario_throughput(
                "2 nodes PostgreSQL + Redis (visitor on A, officer on B)",
                nodes[0],
                nodes[1],
                cookies,
                plan.conversations,
                plan.warmup,
                plan.measure,
            ),
            nodes,
        )
    finally:
        for n in nodes:
            n.stop()
        await asyncio.to_thread(
            subprocess.run, ["dropdb", *PG_ADMIN, "--force", "--if-exists", database], check=False
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Confide load benchmark (issue 7).")
    parser.add_argument("--quick", action="store_true", help="reduced run (< 90 s), smoke test")
    parser.add_argument(
        "--src",
        help="PYTHONPATH for the server, e.g. a clean worktree's src (default: installed confide)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL runs")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument("--output", help="report file (default bench/RESULTS.md)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20000)), hard))
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="confide-bench-"))
    try:
        results = asyncio.run(run_all(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - began
    report = build_report(results, args, command.strip(), elapsed)
    print()
    print(report)
    output = (
        Path(args.output)
        if args.output
        else BENCH / ("RESULTS.quick.md" if args.quick else "RESULTS.md")
    )
    write_report(output, report)
    print(f"written to {output}")


if __name__ == "__main__":
    main()
