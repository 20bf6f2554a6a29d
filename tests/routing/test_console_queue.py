"""The console's live queue shows the conversations of the staff member's teams."""

from __future__ import annotations

from confide.runtime import Runtime
from tests.clients import staff_login, staff_socket, start_conversation
from tests.conftest import LiveServer, Persona
from tests.routing.conftest import MakeTeam


async def test_each_console_sees_the_queue_of_its_teams(
    live_server: LiveServer,
    live_routing: Runtime,
    make_team: MakeTeam,
    officer_paris: Persona,
    officer_national: Persona,
    supervisor: Persona,
) -> None:
    await make_team(
        "Gendarmerie Lozère", kind="gendarmerie", departements="48", members=[officer_paris]
    )
    await make_team("Plateforme nationale", kind="national", members=[officer_national])
    lozere, _ = await start_conversation(live_server, postcode="48000")
    paris, _ = await start_conversation(live_server, postcode="75011")
    unknown, _ = await start_conversation(live_server, postcode="00000")

    async def queue_of(persona: Persona) -> set[str]:
        ws, _ = await staff_socket(live_server, await staff_login(live_server, persona))
        frame = await ws.expect("queue")
        await ws.close()
        return {item["conversation_id"] for item in frame["items"]} & {lozere, paris, unknown}

    # The Lozère team: its département only (Paris has no local team yet, so it is the
    # national team's at once, like an unknown code).
    assert await queue_of(officer_paris) == {lozere}
    assert await queue_of(officer_national) == {paris, unknown}
    # Someone in no team (a small deployment) sees everything.
    assert await queue_of(supervisor) == {lozere, paris, unknown}
