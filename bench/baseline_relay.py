"""Baseline for the benchmark: the simplest honest relay, written directly on `websockets`.

Two clients of a pair connect to `/`, each sends `{"type": "auth", "pair": ID, "side": "a"|"b"}`
first. Every `{"type": "send", "client_id", "body"}` is inserted into SQLite (aiosqlite, the
same pragmas as Confide: WAL, synchronous=NORMAL) with a per-pair sequence number and
committed, then acknowledged to the sender and forwarded to the peer as a `message` frame.
No authentication, permissions, encryption at rest, audit, resume or multi-node bus: this is
the ceiling a chat relay on this machine can reach, the figure Confide is compared with.

Run: `python bench/baseline_relay.py --port 8765 --db /tmp/relay.db`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from typing import Any

import aiosqlite
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    pair TEXT NOT NULL,
    seq INTEGER NOT NULL,
    side TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL,
    UNIQUE (pair, seq),
    UNIQUE (pair, client_id)
)
"""


class Relay:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.peers: dict[str, dict[str, ServerConnection]] = {}
        self.seqs: dict[str, int] = {}
        self.write_lock = asyncio.Lock()

    async def store(self, pair: str, side: str, client_id: str, body: str) -> int:
        async with self.write_lock:
            seq = self.seqs.get(pair, 0) + 1
            await self.db.execute(
                "INSERT INTO messages (pair, seq, side, client_id, body, at) VALUES (?, ?, ?, ?, ?, ?)",
                (pair, seq, side, client_id, body, time.time()),
            )
            await self.db.commit()
            self.seqs[pair] = seq
            return seq

    async def handler(self, ws: ServerConnection) -> None:
        try:
            first = json.loads(await ws.recv())
            pair, side = str(first["pair"]), str(first["side"])
        except (ConnectionClosed, ValueError, KeyError, TypeError):
            await ws.close(4401)
            return
        other = "b" if side == "a" else "a"
        self.peers.setdefault(pair, {})[side] = ws
        try:
            await ws.send(json.dumps({"type": "ready"}))
            async for raw in ws:
                frame: dict[str, Any] = json.loads(raw)
                if frame.get("type") != "send":
                    continue
                seq = await self.store(pair, side, frame["client_id"], frame["body"])
                await ws.send(
                    json.dumps({"type": "ack", "client_id": frame["client_id"], "seq": seq})
                )
                peer = self.peers.get(pair, {}).get(other)
                if peer is not None:
                    with contextlib.suppress(ConnectionClosed):
                        await peer.send(
                            json.dumps(
                                {
                                    "type": "message",
                                    "seq": seq,
                                    "author": side,
                                    "body": frame["body"],
                                }
                            )
                        )
        except ConnectionClosed:
            pass
        finally:
            sides = self.peers.get(pair, {})
            if sides.get(side) is ws:
                del sides[side]


async def main(port: int, db_path: str) -> None:
    db = await aiosqlite.connect(db_path)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute(SCHEMA)
    await db.commit()
    relay = Relay(db)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(relay.handler, "127.0.0.1", port, compression=None, max_size=1 << 20):
        print(f"baseline relay listening on 127.0.0.1:{port}", flush=True)
        await stop
    await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="relay.db")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(args.port, args.db))
