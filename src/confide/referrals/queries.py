"""Reads of the referral directory."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.referrals.models import ReferralResource

#: A resource for everyone is shown whatever the audience asked for.
AUDIENCE_ALL = "all"


def is_national(resource: ReferralResource) -> bool:
    return resource.departement == ""


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ReferralResource)) or 0)


async def lookup(
    session: AsyncSession,
    *,
    departement: str,
    channel: str | None = None,
    audience: str | None = None,
) -> list[ReferralResource]:
    """Resources of `departement` serving `channel` and `audience` (when given), then every
    national line, which applies everywhere and is always included. Local first, by name."""
    rows = await session.scalars(
        select(ReferralResource)
        .where(or_(ReferralResource.departement == departement, ReferralResource.departement == ""))
        .order_by(ReferralResource.name, ReferralResource.id)
    )
    local: list[ReferralResource] = []
    national: list[ReferralResource] = []
    for resource in rows:
        if is_national(resource):
            national.append(resource)
            continue
        if not departement:
            continue
        if channel and channel not in resource.channels.split():
            continue
        if audience and resource.audience not in (audience, AUDIENCE_ALL):
            continue
        local.append(resource)
    return local + national


def card(resource: ReferralResource) -> dict[str, str | int]:
    """What a resource card shows (console list and the message sent to the visitor)."""
    return {
        "id": resource.id,
        "type": resource.type,
        "name": resource.name,
        "address": resource.address,
        "postcode": resource.postcode,
        "departement": resource.departement,
        "phone": resource.phone,
        "email": resource.email,
        "hours": resource.hours,
        "audience": resource.audience,
    }
