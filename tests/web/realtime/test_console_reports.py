"""The console's signalements: listed in the `opened` frame for those who may write one, and
announced (unit and urgency, never the facts) to consoles following the conversation."""

from __future__ import annotations

from confide.runtime import Runtime
from confide.signalements import actions
from confide.signalements.schemas import SignalementForm
from confide.staff.schemas import StaffIdentity
from tests.clients import officer_takes, staff_login, staff_socket, start_conversation
from tests.conftest import LiveServer, Persona


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


async def test_the_opened_frame_lists_the_conversation_signalements(
    live_server: LiveServer, rt: Runtime, officer_paris: Persona, psychologist: Persona
) -> None:
    conversation_id, _ = await start_conversation(live_server)
    cookies = await staff_login(live_server, officer_paris)
    officer, _ = await staff_socket(live_server, cookies)
    await officer.send({"type": "take", "conversation_id": conversation_id})
    await officer.expect("opened")
    saved = await actions.save_signalement(
        rt,
        staff=identity(officer_paris),
        form=SignalementForm(unit_name="BPF Paris", urgency="immediate", facts="Faits précis"),
        conversation_id=conversation_id,
    )
    await officer.close()

    # The officer comes back: the console lists the signalement, without its text.
    again, hello = await staff_socket(live_server, cookies)
    assert any(c["conversation_id"] == conversation_id for c in hello["conversations"])
    await again.send({"type": "open", "conversation_id": conversation_id, "after_seq": 0})
    opened = await again.expect("opened")
    assert opened["signalements"] == [
        {
            "id": saved.id,
            "unit": "BPF Paris",
            "urgency": "immediate",
            "at": saved.created_at.isoformat(timespec="seconds") + "Z",
        }
    ]
    assert "Faits précis" not in str(opened)

    # A psychologist's console never gets the list (they may not write signalements).
    other_id, _ = await start_conversation(live_server)
    psy = await officer_takes(live_server, psychologist, other_id)
    await psy.send({"type": "open", "conversation_id": other_id, "after_seq": 0})
    assert "signalements" not in await psy.expect("opened")
    await psy.close()
    await again.close()
