"""The embedded SQLite database stays correct when two processes write at once (the server and
a `confide` command, say): a write transaction holds the write lock from its first read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKER = """
import asyncio, sys
from sqlalchemy import text
from confide.db import Database

async def main(url, n):
    db = Database(url)
    if n == 0:
        async with db.session(write=True) as s:
            await s.execute(text("CREATE TABLE counter (v INTEGER)"))
            await s.execute(text("INSERT INTO counter VALUES (0)"))
    for _ in range(n):
        async with db.session(write=True) as s:
            v = (await s.execute(text("SELECT v FROM counter"))).scalar_one()
            await asyncio.sleep(0)
            await s.execute(text("UPDATE counter SET v = :v"), {"v": v + 1})
    await db.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_two_processes_incrementing_lose_no_update(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counter.db'}"
    subprocess.run([sys.executable, "-c", WORKER, url, "0"], check=True, timeout=60)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, "200"]) for _ in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    import sqlite3

    with sqlite3.connect(tmp_path / "counter.db") as db:
        assert db.execute("SELECT v FROM counter").fetchone() == (400,)
