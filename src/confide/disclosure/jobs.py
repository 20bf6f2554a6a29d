"""The retention purge as a background job: one node at a time (the routing DB lease), once
per `purge_interval_s`. All logic is in `actions.purge`, which takes `now`; `run_once` takes
it too, so tests drive the job with a controlled clock instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime

from confide.disclosure import actions
from confide.routing.actions import acquire_lease, release_lease
from confide.runtime import Runtime

log = logging.getLogger(__name__)
LEASE_NAME = "purge"


class PurgeJob:
    def __init__(
        self, rt: Runtime, node_id: str | None = None, lease_name: str = LEASE_NAME
    ) -> None:
        self.rt = rt
        self.node_id = node_id or uuid.uuid4().hex
        self.lease_name = lease_name
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="purge-job")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await release_lease(self.rt, name=self.lease_name, holder=self.node_id)

    async def run_once(self, now: datetime) -> actions.PurgeReport | None:
        """Purge as of `now` if this node holds the lease (taken or renewed for two
        intervals, so a dead holder is replaced); None when another node holds it."""
        if not await acquire_lease(
            self.rt,
            name=self.lease_name,
            holder=self.node_id,
            seconds=2 * self.rt.settings.purge_interval_s,
            now=now,
        ):
            return None
        report = await actions.purge(self.rt, now=now)
        if report.total:
            log.info(
                "retention purge: %d conversation(s), %d sealed record(s), %d disclosure(s)",
                report.conversations,
                report.sealed_metadata,
                report.revealed_metadata,
            )
        return report

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once(self.rt.clock())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(self.rt.settings.purge_interval_s)
