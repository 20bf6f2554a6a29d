"""What every action needs: settings, secrets, database, bus and clock, plus transactions
whose publications are sent only after commit (clients never hear of a rolled-back change)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from confide.db import Database, utcnow
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

    def __post_init__(self) -> None:
        self.keyring = KeyRing(self.secrets)

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
