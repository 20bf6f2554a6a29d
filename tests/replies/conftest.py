"""Replies fixtures: staff identities as the actions see them, and conversations in a given
chat and language held by an officer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from confide.conversations import actions as conversation_actions
from confide.runtime import Runtime
from confide.staff.schemas import StaffIdentity
from tests.conftest import Persona

Converse = Callable[..., Awaitable[str]]


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


@pytest.fixture
def converse(rt: Runtime) -> Converse:
    """Start a conversation (chat, visitor language) and let `officer` take it; its id."""

    async def start(officer: Persona, *, channel: str = "domestic", lang: str = "fr") -> str:
        conversation, _ = await conversation_actions.start_conversation(
            rt, channel=channel, visitor_role="victim", postcode="75011", lang=lang
        )
        await conversation_actions.take_conversation(
            rt, staff=identity(officer), conversation_id=conversation.id
        )
        return conversation.id

    return start
