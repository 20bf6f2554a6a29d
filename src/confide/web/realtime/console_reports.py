"""Staff socket frames of the console's reports feature (registered with `frames.staff_frame`).

Signalements are written on their own page (opened from the console in a new tab); the
console lists a conversation's signalements in the `opened` frame and hears of new ones
(`signalement_saved`, unit and urgency only) while it follows the conversation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from confide.signalements import actions, queries
from confide.signalements.schemas import SAVED_EVENT
from confide.web.realtime import frames

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from confide.conversations.models import Conversation
    from confide.runtime import Runtime
    from confide.staff.schemas import StaffIdentity

frames.FORWARDED_CONVERSATION_EVENTS.add(SAVED_EVENT)


@frames.opened_extra
async def signalements_of_conversation(
    session: AsyncSession, rt: Runtime, conversation: Conversation, staff: StaffIdentity
) -> dict[str, Any]:
    """`"signalements": [{id, unit, urgency, at}]` for those who may write one about it."""
    if not actions.may_write(staff, conversation):
        return {}
    return {"signalements": await queries.summaries(session, conversation.id)}
