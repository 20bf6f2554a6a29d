"""The routing background job: one node at a time (DB lease) runs the assignment engine, the
grace-period returns to the queue and the overflow alerts.

It wakes on every queue hint from the bus (new conversation, officer available, slot freed),
so assignment does not wait for the periodic tick; the tick catches anything a lost hint
missed and drives the timers. All logic is in `routing.actions.tick`, which takes `now`:
tests call it directly with a controlled clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from confide.conversations.actions import QUEUE_TOPIC
from confide.routing import actions
from confide.runtime import Runtime
from confide.web.realtime.bus import Payload

log = logging.getLogger(__name__)
LEASE_NAME = "routing"


class RoutingJobs:
    def __init__(self, rt: Runtime, node_id: str | None = None) -> None:
        self.rt = rt
        self.node_id = node_id or rt.node_id
        self.holder = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lease_checked = -1e9
        self._ticked = -1e9
        self._beat = -1e9

    async def start(self) -> None:
        await self.rt.bus.subscribe(QUEUE_TOPIC, self._on_hint)
        self._task = asyncio.create_task(self._run(), name="routing-jobs")

    async def stop(self) -> None:
        await self.rt.bus.unsubscribe(QUEUE_TOPIC, self._on_hint)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.holder:
            with contextlib.suppress(Exception):
                await actions.release_lease(self.rt, name=LEASE_NAME, holder=self.node_id)

    def _on_hint(self, _payload: Payload) -> None:
        self._wake.set()

    async def _run(self) -> None:
        settings = self.rt.settings
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), settings.routing_tick_s)
            self._wake.clear()
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing job failed")

    async def _step(self) -> None:
        settings = self.rt.settings
        clock = time.monotonic()
        # Every node, leader or not, vouches for the consoles it holds.
        if clock - self._beat >= settings.routing_lease_s / 2:
            self._beat = clock
            await actions.presence_heartbeat(self.rt, now=self.rt.clock())
        # Holders renew well before expiry; others try again once per tick, not on every hint.
        every = settings.routing_lease_s / 3 if self.holder else settings.routing_tick_s
        if clock - self._lease_checked >= every:
            self.holder = await actions.acquire_lease(
                self.rt, name=LEASE_NAME, holder=self.node_id, seconds=settings.routing_lease_s
            )
            self._lease_checked = clock
        if not self.holder:
            return
        if clock - self._ticked >= settings.routing_tick_s:
            self._ticked = clock
            await actions.tick(self.rt, self.rt.clock())
        else:
            await actions.assign_waiting(self.rt, now=self.rt.clock())
