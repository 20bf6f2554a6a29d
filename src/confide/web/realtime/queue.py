"""Live queue for each node: one database read per change, fanned out to local sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from confide.casework import queries as casework_queries
from confide.conversations import queries
from confide.conversations.actions import QUEUE_TOPIC
from confide.routing import queries as routing_queries
from confide.runtime import Runtime
from confide.web.realtime.bus import Payload
from confide.web.realtime.connection import Connection

log = logging.getLogger(__name__)


class QueueWatcher:
    DEBOUNCE_S = 0.05

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # Every open visitor socket, by conversation: only those still waiting get queue
        # frames, and a conversation put back in the queue gets them again at once.
        self.visitors: dict[str, Connection] = {}
        # Every open console that may see the queue, with its staff member's id.
        self.staff: dict[Connection, int] = {}
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.rt.bus.subscribe(QUEUE_TOPIC, self._on_hint)
        self._task = asyncio.create_task(self._run(), name="queue-watcher")

    async def stop(self) -> None:
        await self.rt.bus.unsubscribe(QUEUE_TOPIC, self._on_hint)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_hint(self, _payload: Payload) -> None:
        self._dirty.set()

    def changed(self) -> None:
        self._dirty.set()

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.DEBOUNCE_S)
            self._dirty.clear()
            if not self.visitors and not self.staff:
                continue
            try:
                await self._broadcast()
            except Exception:
                log.exception("queue broadcast failed")

    async def _broadcast(self) -> None:
        async with self.rt.reading() as session:
            waiting = await queries.waiting_queue(session)
            average_wait = await queries.recent_wait_seconds(session, self.rt.clock())
            flags = await casework_queries.flags_by_conversation(session, (w.id for w in waiting))
            if self.staff:
                teams = await routing_queries.load_teams(session)
                memberships = await routing_queries.memberships(session)
        for position, item in enumerate(waiting, start=1):
            connection = self.visitors.get(item.id)
            if connection is not None:
                connection.post("frame", queue_frame(position, average_wait, alert=item.alerted))
        if self.staff:
            self._broadcast_to_staff(waiting, flags, teams, memberships)

    def _broadcast_to_staff(
        self,
        waiting: list[queries.WaitingConversation],
        flags: dict[str, list[str]],
        teams: dict[int, routing_queries.TeamInfo],
        memberships: dict[int, set[int]],
    ) -> None:
        """Each console sees the queue of its teams: the conversations one of its teams may
        answer now (its départements and chats, the national team for unknown codes and
        after the overflow delay, the team a conversation was transferred to). Staff in no
        team (a small deployment) see the whole queue."""
        now = self.rt.clock()
        routing = routing_queries.Snapshot(teams=teams, officers={})
        overflow_s = self.rt.settings.routing_overflow_s
        items = []
        for item in waiting:
            row = routing_queries.WaitingRow(
                id=item.id,
                channel=item.channel,
                departements=tuple((item.departements or item.departement).split()),
                priority=item.priority,
                waiting_since=item.waiting_since or item.created_at,
                team_id=item.team_id,
            )
            eligible = {team.id for team in routing.eligible_teams(row, now, overflow_s)}
            items.append(
                (
                    eligible,
                    {
                        "conversation_id": item.id,
                        "channel": item.channel,
                        "role": item.visitor_role,
                        "departement": item.departement,
                        "priority": item.priority,
                        "alert": item.alerted,
                        "flags": flags.get(item.id, []),
                        "waiting_s": max(0, int((now - item.created_at).total_seconds())),
                    },
                )
            )
        for connection, staff_id in self.staff.items():
            mine = memberships.get(staff_id)
            frame: Payload = {
                "type": "queue",
                "items": [shown for eligible, shown in items if not mine or eligible & mine],
            }
            connection.post("frame", frame)


def queue_frame(
    position: int, average_wait: float | None, *, alert: bool = False
) -> dict[str, Any]:
    """The visitor's place in the queue and the estimated wait (recent waits × position).

    `alert` is true once nobody answered within both routing delays: the page then shows
    the emergency numbers (17, 114, 3919) while the visitor keeps waiting.
    """
    eta = None if average_wait is None else math.ceil(average_wait * position)
    return {"type": "queue", "position": position, "eta_s": eta, "alert": alert}
