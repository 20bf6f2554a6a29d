"""Every change to the referral directory (CSV import) and sending a resource card."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete

from confide.audit.actions import AuditAction, record
from confide.conversations import actions as conversation_actions
from confide.conversations.errors import ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import Author, AuthorKind, Channel, MessageKind, MessageOut
from confide.errors import PermissionDenied
from confide.referrals import queries
from confide.referrals.errors import ReferralNotFound
from confide.referrals.models import ReferralResource
from confide.routing import postcodes
from confide.runtime import Runtime
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity


class ReferralType(StrEnum):
    VICTIM_SUPPORT = "association_aide_victimes"
    CIDFF = "cidff"
    DAY_CENTRE = "accueil_de_jour"
    EMERGENCY_SHELTER = "hebergement_urgence"
    PSYCHOLOGIST = "psychologue"
    SOCIAL_WORKER = "intervenant_social"
    POLICE_UNIT = "unite_police_gendarmerie"
    NATIONAL_LINE = "ligne_nationale"


class Audience(StrEnum):
    WOMEN = "women"
    MINORS = "minors"
    ALL = "all"


IMPORT_COLUMNS = (
    "type",
    "name",
    "address",
    "postcode",
    "insee",
    "departement",
    "phone",
    "email",
    "hours",
    "audience",
    "channels",
    "source",
)
REQUIRED_COLUMNS = ("type", "name", "departement", "phone", "audience", "channels")
_PHONE = re.compile(r"\+?[0-9][0-9 .]{1,24}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE5 = re.compile(r"[0-9]{5}|[0-9][AB0-9][0-9]{3}")
_LIMITS = {"name": 200, "address": 300, "email": 200, "hours": 200, "source": 200}


@dataclass(frozen=True)
class ImportReport:
    resources: int
    errors: list[tuple[int, str]]


def check_row(row: dict[str, str]) -> ReferralResource:
    """A resource from one CSV row; raises ValueError with what is wrong."""
    values = {c: (row.get(c) or "").strip() for c in IMPORT_COLUMNS}
    try:
        kind = ReferralType(values["type"])
    except ValueError:
        raise ValueError(
            f"unknown type {values['type']!r} (one of: {', '.join(ReferralType)})"
        ) from None
    if not values["name"]:
        raise ValueError("name is empty")
    for column, limit in _LIMITS.items():
        if len(values[column]) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
    departement = values["departement"].upper()
    if kind == ReferralType.NATIONAL_LINE:
        if departement:
            raise ValueError("a national line has no département")
    elif departement not in postcodes.departement_codes():
        raise ValueError(f"unknown département {values['departement']!r}")
    if values["postcode"] and not re.fullmatch(r"[0-9]{5}", values["postcode"]):
        raise ValueError(f"postcode {values['postcode']!r} is not 5 digits")
    if values["insee"] and not _CODE5.fullmatch(values["insee"].upper()):
        raise ValueError(f"INSEE code {values['insee']!r} is not valid")
    if not _PHONE.fullmatch(values["phone"]):
        raise ValueError(f"phone {values['phone']!r} is not a phone number")
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        raise ValueError(f"email {values['email']!r} is not an address")
    try:
        audience = Audience(values["audience"])
    except ValueError:
        raise ValueError(
            f"unknown audience {values['audience']!r} (one of: {', '.join(Audience)})"
        ) from None
    channels = list(
        dict.fromkeys(re.split(r"[\s;]+", values["channels"]) if values["channels"] else [])
    )
    channels = [c for c in channels if c]
    if not channels:
        raise ValueError("channels is empty")
    for channel in channels:
        if channel not in set(Channel):
            raise ValueError(f"unknown chat {channel!r} (one of: {', '.join(Channel)})")
    return ReferralResource(
        type=kind,
        name=values["name"],
        address=values["address"],
        postcode=values["postcode"],
        insee=values["insee"].upper(),
        departement=departement,
        phone=values["phone"],
        email=values["email"],
        hours=values["hours"],
        audience=audience,
        channels=" ".join(channels),
        source=values["source"],
    )


async def import_referrals(rt: Runtime, text: str) -> ImportReport:
    """Load the referral directory from CSV (columns in `IMPORT_COLUMNS`; channels separated by
    spaces or semicolons; an empty département only for a national line). Every row is
    checked and errors are reported by line; nothing is written unless every row is valid.
    The file **replaces** the whole directory (it is the reference list). Command line only;
    audited as `referral.imported`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return ImportReport(0, [(1, f"missing column(s): {', '.join(missing)}")])
    reader.fieldnames = header
    resources: list[ReferralResource] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        try:
            resource = check_row(row)
        except ValueError as error:
            errors.append((line, str(error)))
            continue
        key = (resource.name.casefold(), resource.departement)
        if key in seen:
            errors.append((line, f"{resource.name!r} already given on line {seen[key]}"))
            continue
        seen[key] = line
        resources.append(resource)
    if errors:
        return ImportReport(0, errors)
    if not resources:
        return ImportReport(0, [(1, "no resource in the file")])
    async with rt.transaction() as tx:
        await tx.session.execute(delete(ReferralResource))
        for resource in resources:
            resource.updated_at = tx.now
            tx.session.add(resource)
        await record(
            tx,
            AuditAction.REFERRALS_IMPORTED,
            actor_staff_id=None,
            actor_label="cli",
            detail={"resources": len(resources)},
        )
    return ImportReport(len(resources), [])


async def _assigned(rt: Runtime, staff: StaffIdentity, conversation_id: str) -> Conversation:
    if not staff.can(Permission.REFERRAL_SEND):
        raise PermissionDenied()
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    if conversation.assigned_staff_id != staff.id:
        raise PermissionDenied()
    return conversation


async def directory_for(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> list[dict[str, str | int]]:
    """Resources for the conversation's département and chat, national lines included.
    The staff member in charge of the conversation only."""
    conversation = await _assigned(rt, staff, conversation_id)
    async with rt.reading() as session:
        found = await queries.lookup(
            session, departement=conversation.departement, channel=conversation.channel
        )
    return [queries.card(r) for r in found]


async def send_referral(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    conversation_id: str,
    referral_id: int,
    client_id: str | None = None,
) -> MessageOut:
    """Send a resource card into the conversation: a message of kind `referral` whose body
    (a JSON document) is encrypted like any other, with the next sequence number. The staff
    member in charge only; idempotent per `client_id`. Audited as `referral.sent`."""
    await _assigned(rt, staff, conversation_id)
    async with rt.reading() as session:
        resource = await session.get(ReferralResource, referral_id)
    if resource is None:
        raise ReferralNotFound()
    body = json.dumps(queries.card(resource), ensure_ascii=False, separators=(",", ":"))
    sent = await conversation_actions.send_message(
        rt,
        conversation_id=conversation_id,
        author=Author(AuthorKind(staff.role), staff.id),
        client_id=client_id or str(uuid.uuid4()),
        body=body,
        kind=MessageKind.REFERRAL,
    )
    if sent.created:
        async with rt.transaction() as tx:
            await record(
                tx,
                AuditAction.REFERRAL_SENT,
                actor_staff_id=staff.id,
                conversation_id=conversation_id,
                detail={"referral_id": referral_id},
            )
    return sent.message
