"""Shared fixtures: the database backend under test, a live server, and personas.

The suite runs once per backend, chosen by CONFIDE_TEST_BACKEND:
- ``sqlite`` (default): a SQLite file and the in-process bus;
- ``postgres``: PostgreSQL on 127.0.0.1:5432 (database ``test``) and Redis on 127.0.0.1:6379.
With CI=true an unreachable service fails the run; elsewhere the run is skipped with a note.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from confide import migrations
from confide.db import Database
from confide.runtime import Runtime
from confide.security import crypto
from confide.settings import Settings, load_secrets
from confide.staff import actions as staff_actions
from confide.web.realtime.bus import InProcessBus

BACKEND = os.environ.get("CONFIDE_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("CONFIDE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CONFIDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ENABLE_HINT = (
    "The PostgreSQL + Redis run needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) and "
    "Redis on 127.0.0.1:6379; start them (see README, 'Multi-node tests') or set "
    "CONFIDE_TEST_PG_URL / CONFIDE_TEST_REDIS_URL."
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND != "postgres":
        return
    missing = [
        name
        for name, port in (("PostgreSQL", 5432), ("Redis", 6379))
        if not _reachable("127.0.0.1", port)
    ]
    if missing:
        message = f"{' and '.join(missing)} not reachable. {ENABLE_HINT}"
        if os.environ.get("CI") == "true":
            pytest.exit(f"FAILED: {message}", returncode=1)
        pytest.exit(f"SKIPPED the PostgreSQL + Redis run: {message}", returncode=0)


def pytest_report_header() -> str:
    return f"confide backend: {BACKEND}"


def _admin_postgres(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on the `test` database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this run's own, made in the `test` server and dropped afterwards, so that
    two runs at once (two developers, a developer and CI) do not collide."""
    name = f"confide_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin_postgres(PG_URL, f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    _admin_postgres(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("confide")


@pytest.fixture(scope="session")
def settings(data_dir: Path, request: pytest.FixtureRequest) -> Settings:
    # Every test connects from 127.0.0.1: the per-network limit on new conversations is lifted
    # here and tested on a server of its own (tests/conversations/test_routes.py).
    common = {
        "data_dir": data_dir,
        "conversations_per_hour_per_network": 100_000,
        # Prosecutor keys made by the tests use minimal Argon2id parameters (fast).
        "prosecutor_kdf_fast": True,
    }
    if BACKEND == "postgres":
        url = request.getfixturevalue("postgres_url")
        return Settings(**common, database_url=url, redis_url=REDIS_URL)
    return Settings(**common)


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    migrations.upgrade(settings.resolved_database_url, secrets_file=settings.resolved_secrets_file)
    return settings


@pytest.fixture(scope="session")
async def rt(migrated: Settings) -> AsyncIterator[Runtime]:
    """A runtime in the test process, on the same database and secrets as the live server.

    It publishes on an in-process bus: to reach the live server's sockets, go through it."""
    db = Database(migrated.resolved_database_url)
    runtime = Runtime(
        settings=migrated,
        secrets=load_secrets(migrated.resolved_secrets_file),
        db=db,
        bus=InProcessBus(),
    )
    yield runtime
    await db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = str(settings.data_dir)
    env["CONFIDE_DATABASE_URL"] = settings.resolved_database_url
    if settings.redis_url:
        env["CONFIDE_REDIS_URL"] = settings.redis_url
    if settings.neutral_title:
        env["CONFIDE_NEUTRAL_TITLE"] = settings.neutral_title
    env["CONFIDE_CONVERSATIONS_PER_HOUR_PER_NETWORK"] = str(
        settings.conversations_per_hour_per_network
    )
    if settings.trusted_proxies:
        env["CONFIDE_TRUSTED_PROXIES"] = json.dumps(settings.trusted_proxies)
    return env


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(settings: Settings, log_path: Path, port: int | None = None) -> LiveServer:
    port = port or free_port()
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "confide.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env(settings),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = LiveServer(process, port, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log()}")


@pytest.fixture(scope="session")
def live_server(migrated: Settings, data_dir: Path) -> Iterator[LiveServer]:
    server = start_server(migrated, data_dir / "server.log")
    yield server
    server.stop()


@dataclass
class Persona:
    id: int
    username: str
    password: str
    totp_secret: str
    role: str

    def code(self) -> str:
        return crypto.totp_code(self.totp_secret)


async def make_staff(rt: Runtime, role: str, name: str | None = None) -> Persona:
    """A fresh account per call: a TOTP code can be used once, so each login needs its own."""
    username = f"{name or role}-{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    secret = crypto.new_totp_secret()
    member, _ = await staff_actions.create_staff(
        rt, role=role, username=username, password=password, totp_secret=secret
    )
    return Persona(member.id, username, password, secret, role)


#: Passphrase of every prosecution office key the tests create.
PROSECUTOR_PASSPHRASE = "correct horse battery staple"


@pytest.fixture
async def prosecutor_key(rt: Runtime) -> int:
    """A fresh prosecution office key (through the real action, fast KDF): conversations
    started after it are sealed to it. The live server reads the key at each start."""
    from confide.disclosure import actions as disclosure_actions

    key = await disclosure_actions.create_prosecutor_key(
        rt, passphrase=PROSECUTOR_PASSPHRASE, rotate=True
    )
    return key.id


@pytest.fixture
async def officer_paris(rt: Runtime) -> Persona:
    return await make_staff(rt, "officer", "officer-paris")


@pytest.fixture
async def officer_national(rt: Runtime) -> Persona:
    return await make_staff(rt, "officer", "officer-national")


@pytest.fixture
async def psychologist(rt: Runtime) -> Persona:
    return await make_staff(rt, "psychologist")


@pytest.fixture
async def supervisor(rt: Runtime) -> Persona:
    return await make_staff(rt, "supervisor")


@pytest.fixture
async def prosecutor(rt: Runtime) -> Persona:
    return await make_staff(rt, "prosecutor")


@pytest.fixture
async def admin(rt: Runtime) -> Persona:
    return await make_staff(rt, "admin")
