"""A server killed while messages are in flight and started again on the same database (the
embedded default's only failure: one process). Both sides reconnect, resume and resend; every
message is stored once and delivered once."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

from confide.conversations import queries
from confide.runtime import Runtime
from confide.settings import Settings
from tests.clients import FrameSocket, staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import Persona, start_server

# Under the per-socket budget (20 messages per 10 s), resends included.
BURST = 8


async def test_messages_in_flight_when_the_server_dies_are_stored_and_delivered_once(
    migrated: Settings, data_dir: Path, rt: Runtime, officer_paris: Persona
) -> None:
    server = start_server(migrated, data_dir / "restart-1.log")
    try:
        conversation_id, token = await start_conversation(server)
        visitor, _ = await visitor_socket(server, token)
        cookies = await staff_login(server, officer_paris)
        officer, _ = await staff_socket(server, cookies)
        await officer.send({"type": "take", "conversation_id": conversation_id})
        await officer.expect("opened")

        # A burst written without waiting for acks (many are queued in one group commit),
        # and the process killed while they are in flight.
        burst = [(str(uuid.uuid4()), f"message {n}") for n in range(BURST)]
        for client_id, body in burst:
            await visitor.send({"type": "send", "client_id": client_id, "body": body})
        # Killed once the first few are acknowledged: others are stored but not acknowledged,
        # or not stored at all.
        await visitor.expect("ack", client_id=burst[2][0])
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()

    acked = {f["client_id"] for f in visitor.seen if f.get("type") == "ack"}
    # Stored by the killed process (some perhaps without their ack reaching the page).
    before = [b for b in (await _stored(rt, conversation_id)).values() if b.startswith("message ")]
    officer_seqs = {f["seq"]: f["body"] for f in officer.seen if f.get("type") == "message"}
    visitor_last = max((f["seq"] for f in visitor.seen if f.get("type") == "message"), default=0)

    server = start_server(migrated, data_dir / "restart-2.log")
    try:
        # The page resumes from its last message and resends everything not acknowledged,
        # with the same client ids.
        visitor, _ = await visitor_socket(server, token, resume=visitor_last)
        for client_id, body in burst:
            if client_id not in acked:
                await visitor.send({"type": "send", "client_id": client_id, "body": body})
        for client_id, _ in burst:
            if client_id not in acked:
                await visitor.expect("ack", client_id=client_id)
        # The console reconnects with its session and catches up after what it had.
        officer, hello = await staff_socket(server, cookies)
        assert [c["conversation_id"] for c in hello["conversations"]] == [conversation_id]
        after = max(officer_seqs, default=0)
        await officer.send({"type": "open", "conversation_id": conversation_id, "after_seq": after})
        await officer.expect("opened")
        stored = await _stored(rt, conversation_id)
        await _catch_up(officer, officer_seqs, max(stored))

        bodies = [body for _, body in burst]
        visitor_stored = [body for body in stored.values() if body.startswith("message ")]
        assert visitor_stored == bodies, "each message stored once, in the order written"
        assert sorted(officer_seqs) == list(range(1, max(stored) + 1)), "no gap, no repeat"
        assert [b for b in officer_seqs.values() if b.startswith("message ")] == bodies
        print(
            f"\n[fault] server killed and restarted (SQLite: {migrated.resolved_database_url.startswith('sqlite')}): "
            f"sent {BURST}, acked before the kill {len(acked)}, stored before the restart "
            f"{len(before)}, stored {len(visitor_stored)}, "
            f"delivered {len([b for b in officer_seqs.values() if b.startswith('message ')])}"
        )
        await visitor.close()
        await officer.close()
    finally:
        server.stop()


async def _stored(rt: Runtime, conversation_id: str) -> dict[int, str]:
    async with rt.reading() as session:
        messages = await queries.messages_after(session, rt.keyring, conversation_id, 0)
    return {m.seq: m.body for m in messages}


async def _catch_up(officer: FrameSocket, seen: dict[int, str], last: int) -> None:
    """Messages reaching the reconnected console, each seq at most once."""
    while max(seen, default=0) < last:
        frame = await officer.expect("message", timeout=15)
        assert frame["seq"] not in seen, f"seq {frame['seq']} delivered twice"
        seen[frame["seq"]] = frame["body"]
