"""Time from "an officer frees a slot" to "the next visitor is assigned and told".

Against a live server (`confide serve`) on the database named by the usual CONFIDE_*
settings: creates a bench officer (capacity 1) in a bench team covering Lozère (48), logs in
through the real form, then N times: a visitor waits while the officer's only slot is taken;
the officer closes that chat; we measure until the waiting visitor's socket gets `assigned`.
Prints p50 / p90 / p99 / max. Target: p99 ≤ 100 ms.

    CONFIDE_CONVERSATIONS_PER_HOUR_PER_NETWORK=100000 .venv/bin/confide serve &
    PYTHONPATH=. .venv/bin/python bench/assignment.py --url http://127.0.0.1:8000 --runs 200

(the start rate limit must be raised on the server for a run of more than 30 visitors)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from tests.clients import staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona

from confide.db import Database
from confide.routing import actions as routing_actions
from confide.runtime import Runtime
from confide.settings import Settings, load_secrets
from confide.staff import actions as staff_actions
from confide.web.realtime.bus import InProcessBus


class Remote(LiveServer):
    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url

    @property
    def ws_url(self) -> str:
        return self._url.replace("http", "ws", 1)


async def setup(settings: Settings) -> Persona:
    from confide.security import crypto

    rt = Runtime(
        settings=settings,
        secrets=load_secrets(settings.resolved_secrets_file),
        db=Database(settings.resolved_database_url),
        bus=InProcessBus(),
    )
    try:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        password, secret = f"pw-{uuid.uuid4().hex}", crypto.new_totp_secret()
        member, _ = await staff_actions.create_staff(
            rt, role="officer", username=name, password=password, totp_secret=secret
        )
        spec = routing_actions.check_team(
            name="Bench Lozère", kind="gendarmerie", channels="domestic", departements="48"
        )
        team = await routing_actions.save_team(rt, actor=None, spec=spec)
        await routing_actions.set_membership(
            rt, actor=None, team_id=team.id, staff_id=member.id, member=True
        )
        from confide.routing.capacity import locked_state

        async with rt.transaction() as tx:
            (await locked_state(tx, member.id, 1)).capacity = 1
        return Persona(member.id, name, password, secret, "officer")
    finally:
        await rt.db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    server = Remote(args.url)
    persona = await setup(Settings())
    officer, _ = await staff_socket(server, await staff_login(server, persona))
    await officer.send({"type": "availability", "value": "available"})
    await officer.expect("availability")

    async def arrive() -> tuple[str, object]:
        conversation_id, token = await start_conversation(server, postcode="48000")
        ws, _ = await visitor_socket(server, token)
        return conversation_id, ws

    current, current_ws = await arrive()
    await officer.expect("opened", timeout=30)
    samples = []
    for _ in range(args.runs):
        waiting, waiting_ws = await arrive()
        await waiting_ws.expect("queue")  # type: ignore[attr-defined]
        began = time.perf_counter()
        await officer.send({"type": "close", "conversation_id": current})
        await waiting_ws.expect("assigned")  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - began) * 1000)
        await officer.expect("opened")
        await current_ws.close()  # type: ignore[attr-defined]
        current, current_ws = waiting, waiting_ws
    await officer.send({"type": "close", "conversation_id": current})
    await officer.send({"type": "availability", "value": "offline"})
    await officer.close()
    samples.sort()
    q = statistics.quantiles(samples, n=100)
    print(f"slot freed → next visitor assigned and told, {len(samples)} runs (ms):")
    print(f"  p50 {q[49]:.1f}   p90 {q[89]:.1f}   p99 {q[98]:.1f}   max {samples[-1]:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
