"""Reads of the referral directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.referrals import neighbours
from confide.referrals.models import ReferralResource

#: A resource for everyone is shown whatever the audience asked for.
AUDIENCE_ALL = "all"
#: Rows per page of the directory admin page.
PAGE_SIZE = 50
#: Filter value of the admin page for national lines (which have no département).
NATIONAL_FILTER = "national"


class Distance(IntEnum):
    """How far a resource is from a conversation: its lists are ordered by this."""

    SAME = 0  # in one of the conversation's départements
    NEIGHBOUR = 1  # in a bordering département
    NATIONAL = 2  # a national line


DISTANCE_NAMES = {
    Distance.SAME: "departement",
    Distance.NEIGHBOUR: "neighbour",
    Distance.NATIONAL: "national",
}


def is_national(resource: ReferralResource) -> bool:
    return resource.departement == ""


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ReferralResource)) or 0)


async def lookup_near(
    session: AsyncSession,
    *,
    departements: Sequence[str],
    channel: str | None = None,
    audience: str | None = None,
    types: Sequence[str] | None = None,
    with_neighbours: bool = True,
    with_national: bool = True,
) -> list[tuple[ReferralResource, Distance]]:
    """Resources serving `channel` and `audience` (when given) in any of `departements`,
    then (`with_neighbours`) in the départements bordering them, then (`with_national`) every
    national line, which applies everywhere and is always included whatever the chat or
    audience. Ordered by distance, then those meant for `audience`, then by name. `types` keeps
    only these kinds."""
    own = [d for d in dict.fromkeys(departements) if d]
    near = neighbours.around(own) if with_neighbours else []
    places = own + near + ([""] if with_national else [])
    if not places:
        return []
    query = select(ReferralResource).where(ReferralResource.departement.in_(places))
    if types is not None:
        query = query.where(ReferralResource.type.in_(list(types)))
    found: list[tuple[ReferralResource, Distance]] = []
    for resource in await session.scalars(query):
        if is_national(resource):
            found.append((resource, Distance.NATIONAL))
            continue
        if channel and channel not in resource.channels.split():
            continue
        if audience and resource.audience not in (audience, AUDIENCE_ALL):
            continue
        distance = Distance.SAME if resource.departement in own else Distance.NEIGHBOUR
        found.append((resource, distance))
    # Within each distance, resources meant for the chosen public come first.
    found.sort(
        key=lambda pair: (
            pair[1],
            bool(audience) and pair[0].audience != audience,
            pair[0].name.casefold(),
            pair[0].id,
        )
    )
    return found


async def lookup(
    session: AsyncSession,
    *,
    departement: str,
    channel: str | None = None,
    audience: str | None = None,
) -> list[ReferralResource]:
    """Resources of `departement` serving `channel` and `audience` (when given), then every
    national line, which applies everywhere and is always included. Local first, by name."""
    found = await lookup_near(
        session,
        departements=[departement],
        channel=channel,
        audience=audience,
        with_neighbours=False,
    )
    return [resource for resource, _ in found]


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Page:
    resources: list[ReferralResource]
    total: int
    page: int
    pages: int


async def search(
    session: AsyncSession,
    *,
    departement: str = "",
    type: str = "",
    channel: str = "",
    text: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page:
    """The directory for its admin page, filtered (`departement` may be `NATIONAL_FILTER`;
    `text` is searched in the name, address, phone, e-mail and hours), by département then
    name, one page at a time."""
    conditions = []
    if departement == NATIONAL_FILTER:
        conditions.append(ReferralResource.departement == "")
    elif departement:
        conditions.append(ReferralResource.departement == departement)
    if type:
        conditions.append(ReferralResource.type == type)
    if channel:
        conditions.append((" " + ReferralResource.channels + " ").like(f"% {channel} %"))
    if text.strip():
        pattern = _like(text.strip())
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        ReferralResource.name,
                        ReferralResource.address,
                        ReferralResource.phone,
                        ReferralResource.email,
                        ReferralResource.hours,
                        ReferralResource.postcode,
                    )
                )
            )
        )
    total = int(
        await session.scalar(select(func.count()).select_from(ReferralResource).where(*conditions))
        or 0
    )
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = await session.scalars(
        select(ReferralResource)
        .where(*conditions)
        .order_by(ReferralResource.departement, ReferralResource.name, ReferralResource.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return Page(list(rows), total, page, pages)


async def find_same(
    session: AsyncSession, *, name: str, departement: str, other_than: int | None = None
) -> int | None:
    """The id of an entry with this name (whatever the case) in this département, if any."""
    query = select(ReferralResource.id, ReferralResource.name).where(
        ReferralResource.departement == departement
    )
    for found_id, found_name in await session.execute(query):
        if found_id != other_than and found_name.casefold() == name.casefold():
            return int(found_id)
    return None


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
