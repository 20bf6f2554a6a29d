"""Micro-benchmark of the realtime write path: concurrent `send_message` calls, in process.

A Runtime on a fresh database (SQLite in a temporary directory by default, or PostgreSQL +
Redis with `--postgres URL --redis URL`), `--conversations` active conversations, each with
two senders (the visitor and the assigned officer) calling `actions.send_message` back to
back for `--seconds`. Every conversation is followed on the bus by a subscriber that checks
it hears each sequence number once and in order (gaps are allowed: sockets fill them from
the database).

Prints messages/s, µs per message (wall, and CPU of this process, all threads), p50/p99 of
one `send_message` call, statements per message through SQLAlchemy (the raw statements of
the SQLite group commit are not counted: 3 per message, 1 thread hop per batch), and, with `--profile`, the top functions by own time (cProfile). At the end it checks
the database: per conversation, sequence numbers 1..last_seq without gap and one row per
acknowledged client_id (no message lost or duplicated).

    PYTHONPATH=src .venv/bin/python bench/send_path.py --conversations 100 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from confide import migrations
from confide.conversations import actions
from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import Author, AuthorKind
from confide.db import Database
from confide.runtime import Runtime
from confide.settings import Settings, load_secrets
from confide.staff import actions as staff_actions
from confide.staff.schemas import StaffIdentity
from confide.web.realtime.bus import make_bus

BODY = "1234567890;" + "x" * 80  # like bench/run.py's bodies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0


def make_settings(args: argparse.Namespace, work: Path) -> Settings:
    settings = Settings(
        data_dir=work,
        database_url=args.postgres or "",
        redis_url=args.redis or None,
        routing_default_capacity=100_000,
        conversations_per_hour_per_network=100_000_000,
    )
    migrations.upgrade(settings.resolved_database_url, secrets_file=settings.resolved_secrets_file)
    return settings


async def setup(
    args: argparse.Namespace, settings: Settings
) -> tuple[Runtime, StaffIdentity, list[str]]:
    bus = make_bus(settings.redis_url)
    await bus.start()
    rt = Runtime(
        settings=settings,
        secrets=load_secrets(settings.resolved_secrets_file),
        db=Database(settings.resolved_database_url),
        bus=bus,
    )
    member, _ = await staff_actions.create_staff(
        rt,
        role="officer",
        username=f"bench-{uuid.uuid4().hex[:8]}",
        password=f"pw-{uuid.uuid4().hex}",
        totp_secret="JBSWY3DPEHPK3PXP",
    )
    staff = StaffIdentity(
        id=member.id,
        username=member.username,
        display_name=member.display_name,
        role="officer",
        session_id=0,
        csrf_token="",
    )
    ids = []
    for _ in range(args.conversations):
        conversation, _token = await actions.start_conversation(
            rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
        )
        await actions.take_conversation(rt, staff=staff, conversation_id=conversation.id)
        ids.append(conversation.id)
    return rt, staff, ids


async def run(args: argparse.Namespace, settings: Settings) -> None:
    if True:
        rt, staff, ids = await setup(args, settings)
        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(rt.db.engine.sync_engine, "before_cursor_execute", count)
        heard: dict[str, list[int]] = defaultdict(list)
        for cid in ids:
            await rt.bus.subscribe(
                actions.conversation_topic(cid),
                lambda p, cid=cid: (
                    heard[cid].append(int(p["seq"])) if p.get("type") == "message" else None
                ),
            )
        acked: dict[str, set[str]] = defaultdict(set)
        latencies: list[float] = []
        errors: list[str] = []
        loop = asyncio.get_running_loop()
        measuring = False
        done = 0

        async def sender(cid: str, author: Author) -> None:
            nonlocal done
            while loop.time() < end:
                client_id = str(uuid.uuid4())
                t0 = time.perf_counter()
                try:
                    sent = await actions.send_message(
                        rt, conversation_id=cid, author=author, client_id=client_id, body=BODY
                    )
                except Exception as exc:
                    errors.append(type(exc).__name__)
                    continue
                acked[cid].add(sent.message.client_id or "")
                if args.resend and done % args.resend == 0:
                    again = await actions.send_message(
                        rt, conversation_id=cid, author=author, client_id=client_id, body=BODY
                    )
                    if again.created or again.message.seq != sent.message.seq:
                        errors.append("resend not idempotent")
                if measuring:
                    latencies.append((time.perf_counter() - t0) * 1e6)
                    done += 1

        officer = Author(AuthorKind.OFFICER, staff.id)
        visitor = Author(AuthorKind.VISITOR)
        end = loop.time() + args.warmup + args.seconds
        tasks = [asyncio.create_task(sender(c, a)) for c in ids for a in (visitor, officer)]
        await asyncio.sleep(args.warmup)
        profiler = cProfile.Profile() if args.profile else None
        statements, measuring = 0, True
        began = time.perf_counter()
        cpu0 = time.process_time()
        if profiler:
            profiler.enable()
        await asyncio.sleep(args.seconds)
        if profiler:
            profiler.disable()
        measuring = False
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu0
        sql = statements
        await asyncio.gather(*tasks)
        rate = done / elapsed
        print(
            f"{done} messages in {elapsed:.1f} s = {rate:,.0f} msg/s, "
            f"{elapsed / max(done, 1) * 1e6:,.0f} µs wall/msg, "
            f"{cpu / max(done, 1) * 1e6:,.0f} µs CPU (all threads)/msg; "
            f"call p50 {pct(latencies, 50) / 1000:.1f} ms, p99 {pct(latencies, 99) / 1000:.1f} ms; "
            f"{sql / max(done, 1):.2f} SQLAlchemy statements/msg; errors: {sorted(set(errors)) or 'none'}"
        )
        await asyncio.sleep(0.5)
        # Correctness: gap-free sequence numbers, one row per acknowledged client_id, and
        # every publication heard once and in increasing order.
        problems = reordered = 0
        async with rt.reading() as session:
            for cid in ids:
                last = await session.scalar(
                    select(Conversation.last_seq).where(Conversation.id == cid)
                )
                rows = (
                    await session.execute(
                        select(Message.seq, Message.client_id)
                        .where(Message.conversation_id == cid)
                        .order_by(Message.seq)
                    )
                ).all()
                seqs = [r.seq for r in rows]
                clients = [r.client_id for r in rows if r.client_id is not None]
                if seqs != list(range(1, (last or 0) + 1)):
                    problems += 1
                    print(f"  {cid}: sequence numbers not 1..{last}")
                if len(clients) != len(set(clients)) or set(clients) != acked[cid]:
                    problems += 1
                    print(f"  {cid}: stored client_ids differ from acknowledged ones")
                got = heard[cid]
                if len(got) != len(set(got)):
                    problems += 1
                    print(f"  {cid}: a publication heard twice")
                elif got != sorted(got):
                    # Possible on Redis (publications are awaited: two senders' may cross);
                    # sockets fill the gap from the database and drop the late one.
                    reordered += 1
        print(
            f"check: {problems} problem(s) over {len(ids)} conversations"
            f" ({reordered} heard some publications out of order)"
        )
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
            print(out.getvalue())
        await rt.bus.stop()
        await rt.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--postgres", help="postgresql+asyncpg:// URL of an EMPTY database")
    parser.add_argument("--redis", help="redis:// URL (with --postgres)")
    parser.add_argument("--resend", type=int, default=0, help="resend every Nth message")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()
    if not args.no_uvloop:
        import uvloop

        uvloop.install()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, make_settings(args, Path(tmp))))


if __name__ == "__main__":
    main()
