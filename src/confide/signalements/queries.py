"""Reads of signalements. Facts and contact details are decrypted here only, with the
conversation's data key."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.conversations import queries as conversation_queries
from confide.conversations.models import Conversation
from confide.security import crypto
from confide.security.keyring import KeyRing, decrypt_text
from confide.signalements.models import Signalement
from confide.signalements.schemas import SignalementView, summary
from confide.staff.models import StaffMember

log = logging.getLogger(__name__)


def _decrypt(key: bytes, blob: bytes | None) -> str:
    if blob is None:
        return ""
    try:
        return decrypt_text(key, bytes(blob))
    except crypto.CryptoError:
        log.error("a signalement text cannot be decrypted")
        return ""


async def summaries(session: AsyncSession, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's signalements as the console lists them, oldest first."""
    rows = await session.execute(
        select(Signalement.id, Signalement.unit_name, Signalement.urgency, Signalement.created_at)
        .where(Signalement.conversation_id == conversation_id)
        .order_by(Signalement.id)
    )
    return [summary(i, unit, urgency, at) for i, unit, urgency, at in rows]


def view(
    signalement: Signalement, conversation: Conversation, author: StaffMember, keyring: KeyRing
) -> SignalementView:
    key = conversation_queries.data_key(keyring, conversation)
    departements = tuple(
        dict.fromkeys(
            d for d in (conversation.departement, *conversation.departements.split()) if d
        )
    )
    return SignalementView(
        id=signalement.id,
        conversation_id=signalement.conversation_id,
        unit_name=signalement.unit_name,
        referral_id=signalement.referral_id,
        urgency=signalement.urgency,
        agreed_contact=signalement.visitor_agreed_contact,
        facts=_decrypt(key, signalement.facts_ciphertext),
        contact=_decrypt(key, signalement.contact_ciphertext),
        created_at=signalement.created_at,
        updated_at=signalement.updated_at,
        author_id=author.id,
        author_name=author.display_name,
        author_role=author.role,
        channel=conversation.channel,
        visitor_role=conversation.visitor_role,
        postcode=conversation.postcode,
        departements=departements,
    )
