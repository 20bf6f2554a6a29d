"""Reads of the disclosure domain. Justifications and refusals are decrypted with keys
derived from the master key of their version (the voluntary identity uses the conversation's
data key)."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from confide.disclosure.models import (
    DisclosureRequest,
    ProsecutorKey,
    SealedMetadata,
    VoluntaryIdentity,
)
from confide.disclosure.schemas import REASON_URGENCY, RequestStatus, RequestView
from confide.security import crypto
from confide.security.keyring import KeyRing
from confide.staff.models import StaffMember

JUSTIFICATION_KEY = "justification"
REFUSAL_KEY = "refusal"
REVEALED_KEY = "revealed"
IDENTITY_KEY = "identity"


async def current_key(session: AsyncSession) -> ProsecutorKey | None:
    """The key that seals new conversations: the newest one not retired."""
    return await session.scalar(
        select(ProsecutorKey)
        .where(ProsecutorKey.retired_at.is_(None))
        .order_by(ProsecutorKey.id.desc())
        .limit(1)
    )


async def sealed_for(session: AsyncSession, conversation_id: str) -> SealedMetadata | None:
    return await session.get(SealedMetadata, conversation_id)


async def has_identity(session: AsyncSession, conversation_id: str) -> bool:
    return (
        await session.scalar(
            select(VoluntaryIdentity.conversation_id).where(
                VoluntaryIdentity.conversation_id == conversation_id
            )
        )
    ) is not None


def _decrypt_text(keyring: KeyRing, purpose: str, conversation_id: str, blob: bytes | None) -> str:
    if blob is None:
        return ""
    try:
        return keyring.decrypt_derived(purpose, conversation_id, blob).decode()
    except (crypto.CryptoError, UnicodeDecodeError):
        return ""


async def request_views(
    session: AsyncSession,
    keyring: KeyRing,
    *,
    conversation_id: str | None = None,
    request_id: int | None = None,
    pending_only: bool = False,
    limit: int = 200,
) -> list[RequestView]:
    """Requests with their decrypted texts: pending ones most urgent first, then the newest."""
    requester = aliased(StaffMember)
    decider = aliased(StaffMember)
    urgency = case(
        *((DisclosureRequest.reason == str(r), u) for r, u in REASON_URGENCY.items()), else_=9
    )
    query = (
        select(DisclosureRequest, requester.display_name, decider.display_name)
        .join(requester, requester.id == DisclosureRequest.requester_staff_id)
        .outerjoin(decider, decider.id == DisclosureRequest.decided_by_staff_id)
        .order_by(
            (DisclosureRequest.status != str(RequestStatus.PENDING)),
            case((DisclosureRequest.status == str(RequestStatus.PENDING), urgency), else_=0),
            case(
                (
                    DisclosureRequest.status == str(RequestStatus.PENDING),
                    DisclosureRequest.created_at,
                ),
                else_=None,
            ),
            DisclosureRequest.id.desc(),
        )
        .limit(limit)
    )
    if conversation_id is not None:
        query = query.where(DisclosureRequest.conversation_id == conversation_id)
    if request_id is not None:
        query = query.where(DisclosureRequest.id == request_id)
    if pending_only:
        query = query.where(DisclosureRequest.status == str(RequestStatus.PENDING))
    rows = await session.execute(query)
    return [
        RequestView(
            id=r.id,
            conversation_id=r.conversation_id,
            reason=r.reason,
            justification=_decrypt_text(
                keyring, JUSTIFICATION_KEY, r.conversation_id, r.justification
            ),
            status=r.status,
            created_at=r.created_at,
            requester_id=r.requester_staff_id,
            requester=requester_name,
            decided_at=r.decided_at,
            decider=decider_name,
            refusal=_decrypt_text(keyring, REFUSAL_KEY, r.conversation_id, r.refusal) or None,
            reveal_until=r.reveal_until,
        )
        for r, requester_name, decider_name in rows
    ]
