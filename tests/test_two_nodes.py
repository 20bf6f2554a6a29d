"""Two server processes sharing PostgreSQL and Redis: a visitor on one node and an officer on
the other exchange messages both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from confide.settings import Settings
from tests.clients import send_text, staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import BACKEND, LiveServer, Persona, start_server

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several nodes need PostgreSQL + Redis"
)


@pytest.fixture(scope="module")
def second_node(migrated: Settings, data_dir: Path) -> Iterator[LiveServer]:
    server = start_server(migrated, data_dir / "server-b.log")
    yield server
    server.stop()


async def test_visitor_and_officer_on_different_nodes(
    live_server: LiveServer, second_node: LiveServer, officer_paris: Persona
) -> None:
    conversation_id, token = await start_conversation(live_server, postcode="69003")
    visitor, _ = await visitor_socket(live_server, token)
    officer, _ = await staff_socket(second_node, await staff_login(second_node, officer_paris))
    queue = await officer.expect("queue")
    assert conversation_id in [item["conversation_id"] for item in queue["items"]]
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("opened")
    await visitor.expect("assigned")

    await send_text(visitor, "depuis le nœud A")
    assert (await officer.expect("message", author="visitor"))["body"] == "depuis le nœud A"
    await send_text(officer, "depuis le nœud B", conversation_id=conversation_id)
    assert (await visitor.expect("message", author="officer"))["body"] == "depuis le nœud B"

    # The visitor moves to the other node (a reconnect behind a load balancer) and resumes.
    await visitor.close()
    visitor, ready = await visitor_socket(second_node, token)
    assert ready["status"] == "active"
    bodies = [(await visitor.expect("message"))["body"] for _ in range(ready["last_seq"])]
    assert bodies.count("depuis le nœud A") == 1
    assert bodies.count("depuis le nœud B") == 1
    await send_text(officer, "toujours là", conversation_id=conversation_id)
    assert (await visitor.expect("message", body="toujours là"))["author"] == "officer"
    await visitor.close()
    await officer.close()
