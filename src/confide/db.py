"""Database engine, declarative base and transactions.

SQLite is the embedded default: one process, one writer at a time (an asyncio lock),
WAL journal so readers never wait. PostgreSQL is the multi-node setup.

On SQLite, the hot write path (chat messages) can also go through `SqliteWriter`: jobs queued
by many sockets are written together in one transaction (group commit) by a dedicated thread
with its own sqlite3 connection, one thread hop per batch instead of several per statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, event, make_url
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_SQLITE_DATETIME = sqlite_dialect.DATETIME()  # type: ignore[no-untyped-call]
_to_sqlite = _SQLITE_DATETIME.bind_processor(sqlite_dialect.dialect())
_from_sqlite = _SQLITE_DATETIME.result_processor(sqlite_dialect.dialect(), None)


def sqlite_datetime_value(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (for raw sqlite3 statements)."""
    assert _to_sqlite is not None
    return str(_to_sqlite(value))


def sqlite_datetime(value: str) -> datetime:
    """Inverse of `sqlite_datetime_value`."""
    assert _from_sqlite is not None
    result = _from_sqlite(value)
    assert isinstance(result, datetime)
    return result


def utcnow() -> datetime:
    """Naive UTC: every timestamp in the database is UTC without tzinfo, on both engines."""
    return datetime.now(UTC).replace(tzinfo=None)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No pre-ping: it cost three round trips (BEGIN, ping, ROLLBACK) on every checkout,
            # more than a chat message's own transaction. A connection found dead makes
            # SQLAlchemy empty the whole pool (the next checkout reconnects); the message
            # path retries once on that error (`conversations.actions.send_message`).
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock()
        database = make_url(url).database if self.is_sqlite else None
        #: Group commit on a file database (None on PostgreSQL and in-memory SQLite).
        self.writer: SqliteWriter | None = (
            SqliteWriter(database, self._write_lock)
            if database and database != ":memory:" and not database.startswith("file:")
            else None
        )

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success and rolled back on error."""
        if self.is_sqlite and write:
            async with self._write_lock, self.sessionmaker() as session, session.begin():
                # BEGIN IMMEDIATE: the write lock is taken before the first read, so another
                # process (a CLI command, a test) cannot slip a write between our read and ours.
                await session.connection(execution_options={WRITE_OPTION: True})
                yield session
        else:
            async with self.sessionmaker() as session, session.begin():
                yield session

    async def dispose(self) -> None:
        if self.writer is not None:
            await self.writer.close()
        await self.engine.dispose()


#: A unit of work in a group commit: runs on the writer thread, inside the batch's transaction
#: (and its own savepoint). It must not touch the event loop.
Job = Callable[[sqlite3.Connection], Any]


class SqliteWriter:
    """One sqlite3 connection on one thread that runs batches of jobs in one transaction.

    `run(jobs)` takes the process's write lock (the same one as `Database.session(write=True)`,
    so SQLAlchemy writers and batches never overlap), then on the writer thread:
    `BEGIN IMMEDIATE` (another process's writer waits, as for every write), each job inside a
    savepoint (a job that raises is rolled back alone and its exception returned in its place),
    `COMMIT`. If the transaction itself fails (disk, lock timeout), every job of the batch
    fails with that error and nothing of the batch is stored.
    """

    def __init__(self, path: str, lock: asyncio.Lock) -> None:
        self._path = path
        self._lock = lock
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="confide-sqlite-writer")
        self._connection: sqlite3.Connection | None = None

    async def run(self, jobs: Sequence[Job]) -> list[Any]:
        """Each job's result or exception, in order, once the batch is committed."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            return await loop.run_in_executor(self._executor, self._run, jobs)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            _sqlite_connect(connection, None)
            self._connection = connection
        return self._connection

    def _run(self, jobs: Sequence[Job]) -> list[Any]:
        try:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc
        results: list[Any] = []
        try:
            for job in jobs:
                connection.execute("SAVEPOINT job")
                try:
                    results.append(job(connection))
                except Exception as exc:
                    connection.execute("ROLLBACK TO job")
                    results.append(_wrap(exc) if isinstance(exc, sqlite3.Error) else exc)
                connection.execute("RELEASE job")
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _wrap(exc) from exc
            raise
        return results

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)


def _wrap(exc: sqlite3.Error) -> DBAPIError:
    """The same exception SQLAlchemy raises for this sqlite3 error (callers catch those)."""
    wrapped = DBAPIError.instance(None, None, exc, sqlite3.Error)
    assert isinstance(wrapped, DBAPIError)
    return wrapped


WRITE_OPTION = "confide_write"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module would only BEGIN before the first INSERT/UPDATE, leaving the reads of
    # a transaction outside it (lost updates across processes). We emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
