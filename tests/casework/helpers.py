"""Shared by the case-work tests (and by any test that needs to close a conversation)."""

from __future__ import annotations

from confide.casework.schemas import Offence, Outcome, Qualification
from confide.conversations.schemas import Channel
from confide.staff.schemas import StaffIdentity
from tests.conftest import Persona

#: A valid closing qualification, for tests that close through the action.
QUALIFICATION = Qualification(
    channel=Channel.DOMESTIC, offence=Offence.UNKNOWN, outcomes=frozenset({Outcome.INFORMATION})
)
#: The same, as a socket frame carries it.
QUALIFICATION_FRAME = {"channel": "domestic", "offence": "unknown", "outcomes": ["information"]}


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")
