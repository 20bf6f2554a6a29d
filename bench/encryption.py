"""Cost of encryption at rest on the hot path: `send_message`, with and without encryption.

On a fresh SQLite database in a temporary directory: N messages into one conversation through
`actions.send_message` (one transaction each, as a visitor socket does), once as shipped and
once with the body encryption replaced by a plain UTF-8 encoding; then the replay of those N
messages (`messages_after`, which decrypts), and the raw cost of one encrypt/decrypt/unwrap.

    PYTHONPATH=. .venv/bin/python bench/encryption.py --messages 2000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from confide import migrations
from confide.conversations import actions, queries
from confide.conversations.schemas import Author, AuthorKind
from confide.db import Database
from confide.runtime import Runtime
from confide.security import crypto
from confide.security.keyring import decrypt_text, encrypt_text
from confide.settings import Settings, load_secrets
from confide.web.realtime.bus import InProcessBus

BODY = "Bonjour, j'ai besoin d'aide : mon conjoint me menace depuis plusieurs semaines. " * 2


async def _send_many(rt: Runtime, count: int) -> tuple[str, float]:
    conversation, _ = await actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
    )
    author = Author(AuthorKind.VISITOR)
    started = time.perf_counter()
    for _ in range(count):
        await actions.send_message(
            rt,
            conversation_id=conversation.id,
            author=author,
            client_id=str(uuid.uuid4()),
            body=BODY,
        )
    return conversation.id, time.perf_counter() - started


def _micro(runs: int = 20_000) -> dict[str, float]:
    key, master = crypto.random_key(), crypto.random_key()
    wrapped = crypto.wrap_key(master, key)
    blob = encrypt_text(key, BODY)
    figures = {}
    for name, call in (
        ("encrypt one body", lambda: encrypt_text(key, BODY)),
        ("decrypt one body", lambda: decrypt_text(key, blob)),
        ("unwrap one key (uncached)", lambda: crypto.unwrap_key(master, wrapped)),
    ):
        started = time.perf_counter()
        for _ in range(runs):
            call()
        figures[name] = (time.perf_counter() - started) / runs * 1e6
    return figures


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), routing_jobs=False, purge_jobs=False)
        await asyncio.to_thread(
            migrations.upgrade,
            settings.resolved_database_url,
            secrets_file=settings.resolved_secrets_file,
        )
        db = Database(settings.resolved_database_url)
        rt = Runtime(
            settings=settings,
            secrets=load_secrets(settings.resolved_secrets_file),
            db=db,
            bus=InProcessBus(),
        )
        try:
            await _send_many(rt, 200)  # warm-up
            conversation_id, encrypted = await _send_many(rt, count)
            original = actions.encrypt_text
            actions.encrypt_text = lambda key, text: text.encode("utf-8")  # type: ignore[assignment]
            try:
                _, plain = await _send_many(rt, count)
            finally:
                actions.encrypt_text = original  # type: ignore[assignment]
            started = time.perf_counter()
            async with rt.reading() as session:
                replay = await queries.messages_after(
                    session, rt.keyring, conversation_id, 0, limit=count
                )
            replay_s = time.perf_counter() - started
            assert len(replay) == count
            assert replay[-1].body == BODY
        finally:
            await db.dispose()
    print(f"send_message x {count} on SQLite, body {len(BODY)} chars")
    print(f"  with encryption    {encrypted:7.2f} s  {encrypted / count * 1e3:7.3f} ms/message")
    print(f"  without encryption {plain:7.2f} s  {plain / count * 1e3:7.3f} ms/message")
    print(f"  difference         {(encrypted - plain) / count * 1e6:+7.1f} µs/message")
    print(f"replay of {count} messages (decrypting) {replay_s * 1e3:7.1f} ms")
    for name, micros in _micro().items():
        print(f"  {name:28} {micros:6.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    asyncio.run(main(parser.parse_args().messages))
