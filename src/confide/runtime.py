"""What every action needs: settings, secrets, database, bus and clock, plus transactions
whose publications are sent only after commit (clients never hear of a rolled-back change)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from confide.db import Database, SqliteWriter, utcnow
from confide.security.keyring import KeyRing
from confide.settings import Secrets, Settings
from confide.web.realtime.bus import Bus, Payload


@dataclass
class Tx:
    session: AsyncSession
    now: datetime
    #: Conversation data keys (encryption at rest).
    keyring: KeyRing
    _publications: list[tuple[str, Payload]] = field(default_factory=list)

    def publish_on_commit(self, topic: str, payload: Payload) -> None:
        self._publications.append((topic, payload))


T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class BatchTx:
    """One job of a group commit (SQLite): raw sqlite3 connection, inside the batch's
    transaction; publications go out once the whole batch is committed."""

    connection: sqlite3.Connection
    now: datetime
    keyring: KeyRing
    _publications: list[tuple[str, Payload]] = field(default_factory=list)

    def publish_on_commit(self, topic: str, payload: Payload) -> None:
        self._publications.append((topic, payload))


class GroupCommit:
    """Queue of write jobs taken by one writer task: everything queued while a batch is being
    written goes into the next batch (one transaction). After each commit, the batch's
    publications go out in commit order, then each caller gets its result or exception.

    A caller that is cancelled does not cancel its job: once queued it is written, published
    and simply not answered (a resend with the same client_id finds it)."""

    MAX_BATCH = 256

    def __init__(self, rt: Runtime, writer: SqliteWriter) -> None:
        self._rt = rt
        self._writer = writer
        self._queue: list[tuple[Callable[[BatchTx], Any], asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[BatchTx], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="sqlite-group-commit")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.MAX_BATCH], self._queue[self.MAX_BATCH :]
            keyring = self._rt.keyring
            jobs = [_bind(work, self._rt.clock(), keyring) for work, _ in batch]
            try:
                results = await self._writer.run(jobs)
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), outcome in zip(batch, results, strict=True):
                if isinstance(outcome, BaseException):
                    if not future.done():
                        future.set_exception(outcome)
                    continue
                result, publications = outcome
                for topic, payload in publications:
                    try:
                        await self._rt.bus.publish(topic, payload)
                    except Exception:
                        log.exception("publication after a group commit failed")
                if not future.done():
                    future.set_result(result)


def _bind(
    work: Callable[[BatchTx], Any], now: datetime, keyring: KeyRing
) -> Callable[[sqlite3.Connection], tuple[Any, list[tuple[str, Payload]]]]:
    def job(connection: sqlite3.Connection) -> tuple[Any, list[tuple[str, Payload]]]:
        tx = BatchTx(connection=connection, now=now, keyring=keyring)
        return work(tx), tx._publications

    return job


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    db: Database
    bus: Bus
    clock: Callable[[], datetime] = utcnow
    #: This process among the nodes: what it records (open consoles) is tied to it, so that
    #: what a dead node left behind can be told apart and expired.
    node_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: Unwraps conversation data keys with the master keys of `secrets` (cached).
    keyring: KeyRing = field(init=False)

    #: Group commit of chat messages on a SQLite file; None on PostgreSQL.
    group_commit: GroupCommit | None = field(init=False)

    def __post_init__(self) -> None:
        self.keyring = KeyRing(self.secrets)
        self.group_commit = (
            GroupCommit(self, self.db.writer) if self.db.writer is not None else None
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction; queued publications go out after it commits."""
        async with self.db.session(write=True) as session:
            tx = Tx(session=session, now=self.clock(), keyring=self.keyring)
            yield tx
        for topic, payload in tx._publications:
            await self.bus.publish(topic, payload)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.db.session(write=False) as session:
            yield session
