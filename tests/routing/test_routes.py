"""Routing through the live server: admin and supervisor pages, and the console's
availability, automatic assignment, transfer and queue frames over real sockets."""

from __future__ import annotations

import re

import httpx

from confide.runtime import Runtime
from tests.clients import staff_login, staff_socket, start_conversation, visitor_socket
from tests.conftest import LiveServer, Persona, make_staff
from tests.routing.conftest import MakeTeam


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_admin_manages_teams_and_supervisor_edits_schedules(
    live_server: LiveServer,
    live_routing: Runtime,
    admin: Persona,
    supervisor: Persona,
    officer_paris: Persona,
) -> None:
    cookies = await staff_login(live_server, admin)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as client:
        page = await client.get("/staff/teams?lang=en")
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        refused = await client.post(
            "/staff/teams",
            data={"csrf": "forged", "name": "Police Paris", "kind": "police", "departements": "75"},
        )
        assert refused.status_code == 403
        wrong = await client.post(
            "/staff/teams?lang=en",
            data={"csrf": csrf, "name": "Nowhere", "kind": "police", "channels": "domestic"},
        )
        assert wrong.status_code == 422
        assert "at least one département" in wrong.text
        created = await client.post(
            "/staff/teams",
            data={
                "csrf": csrf,
                "name": "Police Paris",
                "kind": "police",
                "channels": ["domestic", "sexual"],
                "departements": "75 92",
                "mode": "auto",
            },
        )
        assert created.status_code == 303
        team_url = created.headers["location"]
        added = await client.post(
            f"{team_url}/members", data={"csrf": csrf, "staff_id": str(officer_paris.id)}
        )
        assert added.status_code == 303
        capacity = await client.post(
            f"{team_url}/members/{officer_paris.id}/capacity", data={"csrf": csrf, "capacity": "5"}
        )
        assert capacity.status_code == 303
        team_page = await client.get(f"{team_url}?lang=en")
        assert officer_paris.username in team_page.text
        assert 'value="5"' in team_page.text
        # Editing: a mistake is shown on the team's page, a good form is saved.
        fields = {"csrf": csrf, "kind": "police", "channels": ["domestic"], "departements": "75"}
        bad_edit = await client.post(f"{team_url}?lang=en", data={**fields, "name": "X"})
        assert bad_edit.status_code == 422
        assert officer_paris.username in bad_edit.text
        edited = await client.post(team_url, data={**fields, "name": "Police Paris Centre"})
        assert edited.status_code == 303
        assert "Police Paris Centre" in (await client.get(team_url)).text
    officer_cookies = await staff_login(live_server, officer_paris)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=officer_cookies) as client:
        assert (await client.get("/staff/teams")).status_code == 403
        assert (await client.get("/staff/schedules")).status_code == 403
    supervisor_cookies = await staff_login(live_server, supervisor)
    async with httpx.AsyncClient(base_url=live_server.url, cookies=supervisor_cookies) as client:
        page = await client.get(f"/staff/schedules/{officer_paris.id}?lang=en")
        assert page.status_code == 200
        saved = await client.post(
            f"/staff/schedules/{officer_paris.id}",
            data={
                "csrf": csrf_of(page.text),
                "weekday": ["0", "2", ""],
                "start": ["08:00", "20:00", ""],
                "end": ["16:00", "23:30", ""],
            },
        )
        assert saved.status_code == 303
        listing = await client.get("/staff/schedules?lang=en")
        assert "Monday 08:00–16:00, Wednesday 20:00–23:30" in listing.text
        bad = await client.post(
            f"/staff/schedules/{officer_paris.id}?lang=en",
            data={
                "csrf": csrf_of(page.text),
                "weekday": ["1"],
                "start": ["18:00"],
                "end": ["09:00"],
            },
        )
        assert bad.status_code == 422


async def test_available_officer_is_assigned_live_and_transfers_to_a_psychologist(
    live_server: LiveServer, live_routing: Runtime, make_team: MakeTeam
) -> None:
    rt = live_routing
    officer = await make_staff(rt, "officer", "live-paris")
    psy = await make_staff(rt, "psychologist", "live-psy")
    await make_team("Police Paris live", departements="75", members=[officer])
    await make_team("Psychologues live", kind="psychologists", members=[psy])
    console, hello = await staff_socket(live_server, await staff_login(live_server, officer))
    assert hello["availability"] == "offline"
    assert hello["teams"] == [{"name": "Police Paris live", "kind": "police", "mode": "auto"}]
    conversation_id, token = await start_conversation(live_server, postcode="75011")
    visitor, _ = await visitor_socket(live_server, token)
    queue = await visitor.expect("queue")
    assert queue["position"] == 1
    assert queue["alert"] is False
    await console.send({"type": "availability", "value": "available"})
    await console.expect("availability", value="available")
    opened = await console.expect("opened")
    assert opened["conversation"]["conversation_id"] == conversation_id
    assert (await visitor.expect("assigned"))["role"] == "officer"
    assert (await visitor.expect("message", author="system"))["body"] == "assigned"

    psy_console, _ = await staff_socket(live_server, await staff_login(live_server, psy))
    await psy_console.send({"type": "availability", "value": "available"})
    await console.send({"type": "transfer_targets"})
    targets = await console.expect("transfer_targets")
    assert any(t["name"] == "Psychologues live" for t in targets["teams"])
    await console.send(
        {
            "type": "transfer",
            "conversation_id": conversation_id,
            "to": "psychologists",
            "note": "Souhaite parler à un psychologue",
        }
    )
    released = await console.expect("released")
    assert released["reason"] == "transferred"
    note = (await psy_console.expect("opened"))["transfers"]
    assert note[0]["note"] == "Souhaite parler à un psychologue"
    assert note[0]["from_role"] == "officer"
    assert (await visitor.expect("assigned"))["role"] == "psychologist"
    bodies = [(await visitor.expect("message", author="system"))["body"] for _ in range(2)]
    assert bodies == ["transferred_to_psychologists", "assigned_psychologist"]
    for ws in (console, psy_console, visitor):
        await ws.close()
