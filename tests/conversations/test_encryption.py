"""Encryption at rest: bodies, notes and identity under a per-conversation data key wrapped by
a versioned master key; tampering, master key rotation, and the migration of existing rows."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from confide import migrations
from confide.conversations import actions, queries
from confide.conversations.errors import ConversationUnreadable
from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import Author, AuthorKind
from confide.db import Base, Database
from confide.disclosure import actions as disclosure_actions
from confide.disclosure.models import DisclosureRequest, VoluntaryIdentity
from confide.routing import queries as routing_queries
from confide.routing.models import ConversationTransfer
from confide.runtime import Runtime
from confide.security import crypto
from confide.settings import Settings, load_secrets
from confide.web.realtime.bus import InProcessBus
from tests.clients import send_text, start_conversation, visitor_socket
from tests.conftest import (
    BACKEND,
    PG_URL,
    LiveServer,
    _admin_postgres,
    server_env,
    start_server,
)

VISITOR = Author(AuthorKind.VISITOR)


async def _upgrade(url: str, revision: str = "head", *, secrets_file: Path) -> None:
    """Alembic runs its own event loop: off this one."""
    await asyncio.to_thread(migrations.upgrade, url, revision, secrets_file=secrets_file)


async def _start(rt: Runtime) -> str:
    conversation, _ = await actions.start_conversation(
        rt, channel="domestic", visitor_role="victim", postcode="75011", lang="fr"
    )
    return conversation.id


async def _send(rt: Runtime, conversation_id: str, body: str) -> None:
    await actions.send_message(
        rt, conversation_id=conversation_id, author=VISITOR, client_id=str(uuid.uuid4()), body=body
    )


async def _raw_rows(rt: Runtime) -> list[str]:
    """Every row of every table, as bytes and text a database thief would read."""
    rows = []
    async with rt.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                rows.append(repr(tuple(row)))
    return rows


async def test_bodies_are_stored_encrypted_and_read_back(rt: Runtime) -> None:
    conversation_id = await _start(rt)
    secret = f"mon voisin me menace {uuid.uuid4().hex}"
    await _send(rt, conversation_id, secret)
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
        stored = list(
            await session.scalars(select(Message).where(Message.conversation_id == conversation_id))
        )
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
    assert conversation is not None
    assert crypto.ciphertext_version(conversation.wrapped_key) == rt.keyring.version
    assert len(conversation.wrapped_key) == 1 + 24 + 16 + 32
    assert [m.body for m in messages] == [secret]
    assert secret.encode() not in stored[0].ciphertext
    assert not any(secret in row or secret.encode().hex() in row for row in await _raw_rows(rt))


async def test_each_conversation_has_its_own_key(rt: Runtime) -> None:
    first, second = await _start(rt), await _start(rt)
    async with rt.reading() as session:
        keys = [
            rt.keyring.data_key((await session.get(Conversation, c)).wrapped_key)  # type: ignore[union-attr]
            for c in (first, second)
        ]
    assert keys[0] != keys[1]


async def test_round_trip_through_the_visitor_socket(live_server: LiveServer, rt: Runtime) -> None:
    _conversation_id, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    await send_text(ws, "première phrase")
    await send_text(ws, "deuxième phrase, avec des accents : é à ç 🙂")
    await ws.close()
    again, _ = await visitor_socket(live_server, token, resume=0)
    bodies = [(await again.expect("message"))["body"] for _ in range(2)]
    await again.close()
    assert bodies == ["première phrase", "deuxième phrase, avec des accents : é à ç 🙂"]
    assert not any("première phrase" in row for row in await _raw_rows(rt))


async def test_a_tampered_body_reads_as_unreadable_and_the_rest_still_reads(
    live_server: LiveServer, rt: Runtime
) -> None:
    conversation_id, token = await start_conversation(live_server)
    ws, _ = await visitor_socket(live_server, token)
    for body in ("un", "deux", "trois"):
        await send_text(ws, body)
    await ws.close()
    async with rt.transaction() as tx:
        message = await tx.session.scalar(
            select(Message).where(Message.conversation_id == conversation_id, Message.seq == 2)
        )
        assert message is not None
        damaged = bytearray(message.ciphertext)
        damaged[-1] ^= 0x01
        message.ciphertext = bytes(damaged)
    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
    assert [(m.body, m.unreadable) for m in messages] == [
        ("un", False),
        ("", True),
        ("trois", False),
    ]
    again, _ = await visitor_socket(live_server, token, resume=0)
    frames = [await again.expect("message") for _ in range(3)]
    assert [f["body"] for f in frames] == ["un", "", "trois"]
    assert frames[1]["unreadable"] is True
    await send_text(again, "quatre")  # the socket is still fine
    await again.close()


async def test_a_damaged_wrapped_key_is_a_clean_error(rt: Runtime) -> None:
    conversation_id = await _start(rt)
    await _send(rt, conversation_id, "bonjour")
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        assert conversation is not None
        original = conversation.wrapped_key
        damaged = bytearray(original)
        damaged[5] ^= 0xFF
        conversation.wrapped_key = bytes(damaged)
    # A process that has not unwrapped it yet (nothing cached).
    fresh = Runtime(settings=rt.settings, secrets=rt.secrets, db=rt.db, bus=InProcessBus())
    try:
        async with fresh.reading() as session:
            with pytest.raises(ConversationUnreadable):
                await queries.messages_after(session, fresh.keyring, conversation_id, 0)
        with pytest.raises(ConversationUnreadable):
            await _send(fresh, conversation_id, "encore")
    finally:
        # The live server's routing engine must not meet it in later tests.
        async with rt.transaction() as tx:
            conversation = await tx.session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.wrapped_key = original


def test_secrets_files_of_the_first_format_read_as_version_one(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    pepper, master = crypto.random_key(), crypto.random_key()
    path.write_text(json.dumps({"token_pepper": pepper.hex(), "master_key": master.hex()}))
    secrets = load_secrets(path)
    assert (secrets.master_version, dict(secrets.master_keys)) == (1, {1: master})
    assert secrets.master_key == master
    assert secrets.token_pepper == pepper


# --------------------------------------------------------------------------- a database of its own


@dataclass
class Isolated:
    settings: Settings
    rt: Runtime

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "confide.cli", *args],
            env=server_env(self.settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
async def isolated(tmp_path: Path, settings: Settings) -> AsyncIterator[Isolated]:
    """Its own database and secrets file: rotating the master key here does not touch the
    session's live server."""
    name = None
    if BACKEND == "postgres":
        name = f"confide_enc_{uuid.uuid4().hex[:10]}"
        await asyncio.to_thread(_admin_postgres, PG_URL, f'CREATE DATABASE "{name}"')
        own = settings.model_copy(
            update={"data_dir": tmp_path, "database_url": PG_URL.rsplit("/", 1)[0] + f"/{name}"}
        )
    else:
        own = settings.model_copy(update={"data_dir": tmp_path, "database_url": ""})
    db = Database(own.resolved_database_url)
    rt = Runtime(
        settings=own,
        secrets=load_secrets(own.resolved_secrets_file),
        db=db,
        bus=InProcessBus(),
    )
    try:
        yield Isolated(own, rt)
    finally:
        await db.dispose()
        if name is not None:
            await asyncio.to_thread(
                _admin_postgres, PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )


async def _fill(rt: Runtime, officer_id: int) -> tuple[str, int]:
    """A conversation with messages, a hand-over note, an identity and a justification."""
    conversation_id = await _start(rt)
    await _send(rt, conversation_id, "avant la rotation")
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        assert conversation is not None
        key = queries.data_key(tx.keyring, conversation)
        tx.session.add(
            ConversationTransfer(
                conversation_id=conversation_id,
                from_staff_id=None,
                note_ciphertext=crypto.encrypt(key, b"note de passation"),
                at=tx.now,
            )
        )
        request = DisclosureRequest(
            conversation_id=conversation_id,
            requester_staff_id=officer_id,
            reason="immediate_danger",
            justification=tx.keyring.encrypt_derived(
                "justification", conversation_id, b"danger grave"
            ),
            status="pending",
            created_at=tx.now,
        )
        tx.session.add(request)
        await tx.session.flush()
        request_id = request.id
    await disclosure_actions.give_identity(
        rt, conversation_id=conversation_id, fields={"name": "Camille Secret"}
    )
    return conversation_id, request_id


async def _check_everything_reads(rt: Runtime, conversation_id: str, request_id: int) -> None:
    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
        notes = await routing_queries.transfers_of(session, rt.keyring, conversation_id)
        request = await session.get(DisclosureRequest, request_id)
        identity = await session.get(VoluntaryIdentity, conversation_id)
        key = await queries.conversation_key(session, rt.keyring, conversation_id)
    assert "avant la rotation" in [m.body for m in messages]
    assert not any(m.unreadable for m in messages)
    assert [n.note for n in notes] == ["note de passation"]
    assert request is not None
    assert identity is not None
    assert rt.keyring.decrypt_derived("justification", conversation_id, request.justification)
    assert json.loads(crypto.decrypt(key, identity.ciphertext)) == {"name": "Camille Secret"}


async def test_rotation_rewraps_every_key_and_everything_still_reads(
    isolated: Isolated,
) -> None:
    from tests.conftest import make_staff

    await _upgrade(
        isolated.settings.resolved_database_url,
        secrets_file=isolated.settings.resolved_secrets_file,
    )
    rt = isolated.rt
    officer = await make_staff(rt, "officer")
    filled = [await _fill(rt, officer.id) for _ in range(3)]
    assert rt.keyring.version == 1

    rotated = isolated.cli("keys", "rotate-master", "--batch-size", "2")
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-wrapped 3 conversation key(s)" in rotated.stdout
    assert "re-encrypted 3" in rotated.stdout
    stored = json.loads(isolated.settings.resolved_secrets_file.read_text())
    assert stored["master_version"] == 2
    assert sorted(stored["master_keys"]) == ["1", "2"]

    async with rt.reading() as session:
        wrapped = list(await session.scalars(select(Conversation.wrapped_key)))
        justifications = list(await session.scalars(select(DisclosureRequest.justification)))
    assert {crypto.ciphertext_version(w) for w in wrapped} == {2}
    assert {crypto.ciphertext_version(j) for j in justifications} == {2}

    # A node started before the rotation (it knows version 1 only) picks version 2 up.
    before = Runtime(settings=rt.settings, secrets=rt.secrets, db=rt.db, bus=InProcessBus())
    assert before.keyring.version == 1
    for conversation_id, request_id in filled:
        await _check_everything_reads(before, conversation_id, request_id)
    # One started after it wraps new conversations under version 2.
    after = Runtime(
        settings=rt.settings,
        secrets=load_secrets(rt.settings.resolved_secrets_file),
        db=rt.db,
        bus=InProcessBus(),
    )
    newer = await _start(after)
    async with after.reading() as session:
        conversation = await session.get(Conversation, newer)
    assert conversation is not None
    assert crypto.ciphertext_version(conversation.wrapped_key) == 2
    for conversation_id, request_id in filled:
        await _check_everything_reads(after, conversation_id, request_id)

    # Nothing left to do: --resume re-wraps nothing.
    resumed = isolated.cli("keys", "rotate-master", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Re-wrapped 0 conversation key(s)" in resumed.stdout


async def test_a_server_started_after_rotation_reads_everything(isolated: Isolated) -> None:
    await _upgrade(
        isolated.settings.resolved_database_url,
        secrets_file=isolated.settings.resolved_secrets_file,
    )
    server = start_server(isolated.settings, isolated.settings.data_dir / "before.log")
    try:
        _, token = await start_conversation(server)
        ws, _ = await visitor_socket(server, token)
        await send_text(ws, "écrit sous la version 1")
        await ws.close()
    finally:
        server.stop()
    rotated = isolated.cli("keys", "rotate-master")
    assert rotated.returncode == 0, rotated.stderr
    server = start_server(isolated.settings, isolated.settings.data_dir / "after.log")
    try:
        ws, _ = await visitor_socket(server, token, resume=0)
        assert (await ws.expect("message"))["body"] == "écrit sous la version 1"
        await send_text(ws, "écrit sous la version 2")
        await ws.close()
        again, _ = await visitor_socket(server, token, resume=0)
        bodies = [(await again.expect("message"))["body"] for _ in range(2)]
        await again.close()
    finally:
        server.stop()
    assert bodies == ["écrit sous la version 1", "écrit sous la version 2"]


async def test_migration_encrypts_existing_rows(isolated: Isolated) -> None:
    """Rows written in clear before revision 0005 are encrypted by it, identities move from
    the master-derived key to the conversation key, and everything reads afterwards."""
    url = isolated.settings.resolved_database_url
    secrets_file = isolated.settings.resolved_secrets_file
    await _upgrade(url, "0004", secrets_file=secrets_file)
    secrets = load_secrets(secrets_file)
    conversation_id = uuid.uuid4().hex
    identity = crypto.encrypt(
        crypto.derive_key(secrets.master_key, "identity", conversation_id),
        json.dumps({"name": "Ancien Secret"}).encode(),
    )
    now = datetime(2026, 1, 1)
    async with isolated.rt.db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO conversations (id, channel, visitor_role, postcode, departement,"
                " departements, lang, status, priority, last_seq, created_at)"
                " VALUES (:id, 'domestic', 'victim', '75011', '75', '75', 'fr', 'closed', 0, 2,"
                " :now)"
            ),
            {"id": conversation_id, "now": now},
        )
        for seq, body in ((1, "message ancien en clair"), (2, "closed")):
            await connection.execute(
                text(
                    "INSERT INTO messages (conversation_id, seq, author_kind, body, created_at)"
                    " VALUES (:c, :seq, 'visitor', :body, :now)"
                ),
                {"c": conversation_id, "seq": seq, "body": body, "now": now},
            )
        await connection.execute(
            text(
                "INSERT INTO conversation_transfers (conversation_id, note, at)"
                " VALUES (:c, 'ancienne note', :now)"
            ),
            {"c": conversation_id, "now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO voluntary_identities (conversation_id, ciphertext, updated_at)"
                " VALUES (:c, :ct, :now)"
            ),
            {"c": conversation_id, "ct": identity, "now": now},
        )
    await isolated.rt.db.engine.dispose()

    await _upgrade(url, secrets_file=secrets_file)

    rt = isolated.rt
    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
        notes = await routing_queries.transfers_of(session, rt.keyring, conversation_id)
        key = await queries.conversation_key(session, rt.keyring, conversation_id)
        stored = await session.get(VoluntaryIdentity, conversation_id)
    assert [m.body for m in messages] == ["message ancien en clair", "closed"]
    assert [n.note for n in notes] == ["ancienne note"]
    assert stored is not None
    assert json.loads(crypto.decrypt(key, stored.ciphertext)) == {"name": "Ancien Secret"}
    rows = await _raw_rows(rt)
    assert not any("ancien en clair" in row or "ancienne note" in row for row in rows)
