"""Every change to the referral directory (CSV import, admin page) and sending a resource
card; the lookup of resources near a conversation."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete

from confide.audit.actions import AuditAction, record
from confide.conversations import actions as conversation_actions
from confide.conversations.errors import ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import Channel, MessageKind, MessageOut
from confide.errors import PermissionDenied
from confide.i18n import N_
from confide.referrals import queries
from confide.referrals.errors import AudienceInvalid, ReferralInvalid, ReferralNotFound
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
#: Largest CSV file the admin page accepts.
IMPORT_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of an entry (or with a whole file when `field` is
    empty): an English message id with `{placeholders}`, filled in after translation."""

    field: str
    message: str
    params: dict[str, str | int] = dataclasses.field(default_factory=dict)

    def english(self) -> str:
        return self.message.format(**self.params)

    def text(self, translate: Callable[[str], str]) -> str:
        return translate(self.message).format(**self.params)


@dataclass(frozen=True)
class ImportReport:
    resources: int
    #: (line, English message) for the command line.
    errors: list[tuple[int, str]]
    #: The same, as problems to translate (admin page).
    problems: list[tuple[int, Problem]] = dataclasses.field(default_factory=list)


def _field_problems(values: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    kind: ReferralType | None = None
    if not values["type"]:
        problems.append(Problem("type", N_("Choose the type of resource.")))
    else:
        try:
            kind = ReferralType(values["type"])
        except ValueError:
            problems.append(
                Problem(
                    "type",
                    N_('Unknown type "{value}" (one of: {choices}).'),
                    {"value": values["type"], "choices": ", ".join(ReferralType)},
                )
            )
    if not values["name"]:
        problems.append(Problem("name", N_("The name is empty.")))
    for column, limit in _LIMITS.items():
        if len(values[column]) > limit:
            problems.append(
                Problem(
                    column,
                    N_("This field ({column}) has more than {limit} characters."),
                    {"column": column, "limit": limit},
                )
            )
    departement = values["departement"].upper()
    if kind == ReferralType.NATIONAL_LINE:
        if departement:
            problems.append(Problem("departement", N_("A national line has no département.")))
    elif not departement:
        if kind is not None:
            problems.append(
                Problem("departement", N_("Give the département (a code such as 75, 2A or 971)."))
            )
    elif departement not in postcodes.departement_codes():
        problems.append(
            Problem(
                "departement",
                N_('Unknown département "{value}".'),
                {"value": values["departement"]},
            )
        )
    if values["postcode"] and not re.fullmatch(r"[0-9]{5}", values["postcode"]):
        problems.append(
            Problem(
                "postcode",
                N_('The postal code "{value}" is not 5 digits.'),
                {"value": values["postcode"]},
            )
        )
    if values["insee"] and not _CODE5.fullmatch(values["insee"].upper()):
        problems.append(
            Problem(
                "insee", N_('The INSEE code "{value}" is not valid.'), {"value": values["insee"]}
            )
        )
    if not values["phone"]:
        problems.append(Problem("phone", N_("The phone number is missing.")))
    elif not _PHONE.fullmatch(values["phone"]):
        problems.append(
            Problem(
                "phone",
                N_('The phone number "{value}" is not valid.'),
                {"value": values["phone"]},
            )
        )
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        problems.append(
            Problem(
                "email",
                N_('The e-mail address "{value}" is not valid.'),
                {"value": values["email"]},
            )
        )
    if not values["audience"]:
        problems.append(Problem("audience", N_("Choose who the resource is for.")))
    elif values["audience"] not in set(Audience):
        problems.append(
            Problem(
                "audience",
                N_('Unknown audience "{value}" (one of: {choices}).'),
                {"value": values["audience"], "choices": ", ".join(Audience)},
            )
        )
    channels = [c for c in re.split(r"[\s;]+", values["channels"]) if c]
    if not channels:
        problems.append(Problem("channels", N_("Choose at least one chat.")))
    for channel in channels:
        if channel not in set(Channel):
            problems.append(
                Problem(
                    "channels",
                    N_('Unknown chat "{value}" (one of: {choices}).'),
                    {"value": channel, "choices": ", ".join(Channel)},
                )
            )
            break
    return problems


def clean_values(row: Mapping[str, str | None]) -> dict[str, str]:
    """The known columns of a row or form, trimmed (missing ones empty)."""
    return {c: (row.get(c) or "").strip() for c in IMPORT_COLUMNS}


def check_fields(row: Mapping[str, str | None]) -> tuple[ReferralResource | None, list[Problem]]:
    """One entry (CSV row or admin form) checked field by field: the resource, or every
    problem found (at most one per field)."""
    values = clean_values(row)
    problems: list[Problem] = []
    for problem in _field_problems(values):
        if all(p.field != problem.field for p in problems):
            problems.append(problem)
    if problems:
        return None, problems
    channels = list(dict.fromkeys(c for c in re.split(r"[\s;]+", values["channels"]) if c))
    return (
        ReferralResource(
            type=values["type"],
            name=values["name"],
            address=values["address"],
            postcode=values["postcode"],
            insee=values["insee"].upper(),
            departement=values["departement"].upper(),
            phone=values["phone"],
            email=values["email"],
            hours=values["hours"],
            audience=values["audience"],
            channels=" ".join(channels),
            source=values["source"],
        ),
        [],
    )


def check_row(row: dict[str, str]) -> ReferralResource:
    """A resource from one CSV row; raises ValueError with what is wrong (the first problem,
    in English)."""
    resource, problems = check_fields(row)
    if resource is None:
        raise ValueError(problems[0].english())
    return resource


def _refused(problems: list[tuple[int, Problem]]) -> ImportReport:
    return ImportReport(0, [(line, p.english()) for line, p in problems], problems)


def parse_import(text: str) -> tuple[list[ReferralResource], list[tuple[int, Problem]]]:
    """Every row of a directory CSV checked: the resources, or the problems by line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error:
        return [], [(1, Problem("", N_("This file is not a CSV file.")))]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [
            (1, Problem("", N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)}))
        ]
    reader.fieldnames = header
    resources: list[ReferralResource] = []
    problems: list[tuple[int, Problem]] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            resource, found = check_fields(row)
            if resource is None:
                problems.append((line, found[0]))
                continue
            key = (resource.name.casefold(), resource.departement)
            if key in seen:
                problems.append(
                    (
                        line,
                        Problem(
                            "name",
                            N_('"{name}" is already given on line {line}.'),
                            {"name": resource.name, "line": seen[key]},
                        ),
                    )
                )
                continue
            seen[key] = line
            resources.append(resource)
    except csv.Error:
        problems.append((reader.line_num, Problem("", N_("This line cannot be read as CSV."))))
    if not problems and not resources:
        problems.append((1, Problem("", N_("There is no resource in the file."))))
    return (resources if not problems else []), problems


async def import_referrals(
    rt: Runtime, text: str, *, staff: StaffIdentity | None = None
) -> ImportReport:
    """Load the referral directory from CSV (columns in `IMPORT_COLUMNS`; channels separated by
    spaces or semicolons; an empty département only for a national line). Every row is
    checked and errors are reported by line; nothing is written unless every row is valid.
    The file **replaces** the whole directory (it is the reference list). From the command
    line (`staff` None) or the admin page (`admin:referrals:manage`); audited as
    `referral.imported`."""
    if staff is not None and not staff.can(Permission.REFERRALS_MANAGE):
        raise PermissionDenied()
    resources, problems = parse_import(text)
    if problems:
        return _refused(problems)
    async with rt.transaction() as tx:
        await tx.session.execute(delete(ReferralResource))
        for resource in resources:
            resource.updated_at = tx.now
            tx.session.add(resource)
        await record(
            tx,
            AuditAction.REFERRALS_IMPORTED,
            actor_staff_id=staff.id if staff else None,
            actor_label="" if staff else "cli",
            detail={"resources": len(resources)},
        )
    return ImportReport(len(resources), [])


def decode_upload(data: bytes) -> str | ImportReport:
    """The text of an uploaded CSV file, or the report refusing it."""
    if len(data) > IMPORT_MAX_BYTES:
        return _refused(
            [
                (
                    1,
                    Problem(
                        "",
                        N_("The file is larger than {size} MB."),
                        {"size": IMPORT_MAX_BYTES // 1_000_000},
                    ),
                )
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _refused([(1, Problem("", N_("The file is not UTF-8 text.")))])


async def save_referral(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    values: Mapping[str, str | None],
    referral_id: int | None = None,
) -> ReferralResource:
    """Add an entry to the directory, or change entry `referral_id` (every field replaced).
    Checked like a CSV row, and a name may appear once per département. Admins
    (`admin:referrals:manage`); audited as `referral.changed`. Raises `ReferralInvalid`
    with the problems by field."""
    if not staff.can(Permission.REFERRALS_MANAGE):
        raise PermissionDenied()
    checked, problems = check_fields(values)
    if checked is None:
        raise ReferralInvalid(problems)
    async with rt.transaction() as tx:
        same = await queries.find_same(
            tx.session, name=checked.name, departement=checked.departement, other_than=referral_id
        )
        if same is not None:
            raise ReferralInvalid(
                [Problem("name", N_("This name is already in the directory for this département."))]
            )
        if referral_id is None:
            resource = checked
            tx.session.add(resource)
        else:
            existing = await tx.session.get(ReferralResource, referral_id)
            if existing is None:
                raise ReferralNotFound()
            resource = existing
            for column in IMPORT_COLUMNS:
                setattr(resource, column, getattr(checked, column))
        resource.updated_at = tx.now
        await tx.session.flush()
        await record(
            tx,
            AuditAction.REFERRAL_CHANGED,
            actor_staff_id=staff.id,
            detail={
                "referral_id": resource.id,
                "change": "created" if referral_id is None else "updated",
            },
        )
    return resource


async def delete_referral(rt: Runtime, *, staff: StaffIdentity, referral_id: int) -> None:
    """Remove an entry from the directory (cards already sent keep their copy). Admins;
    audited as `referral.changed`."""
    if not staff.can(Permission.REFERRALS_MANAGE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        resource = await tx.session.get(ReferralResource, referral_id)
        if resource is None:
            raise ReferralNotFound()
        await tx.session.delete(resource)
        await record(
            tx,
            AuditAction.REFERRAL_CHANGED,
            actor_staff_id=staff.id,
            detail={"referral_id": referral_id, "change": "deleted"},
        )


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


def departements_of(conversation: Conversation) -> list[str]:
    """Every département the conversation's postal code may belong to (some codes span two),
    the one routing used first."""
    found = [conversation.departement, *conversation.departements.split()]
    return [d for d in dict.fromkeys(found) if d]


@dataclass(frozen=True)
class Directory:
    #: Who the resources are for: "women", "minors", or None for everyone's resources.
    audience: str | None
    resources: list[dict[str, str | int]]


async def directory_for(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, audience: str | None = None
) -> Directory:
    """Resources for the conversation's chat: those of each of its départements, then of the
    bordering départements, then the national lines (each card says which, as `distance`).
    `audience` ("women", "minors") keeps resources for that public and for all; without it,
    a conversation flagged "suspected minor" gets the minors' resources first choice, others
    every resource. The staff member in charge of the conversation only."""
    if audience is not None and audience not in (Audience.WOMEN, Audience.MINORS):
        raise AudienceInvalid()
    conversation = await _assigned(rt, staff, conversation_id)
    if audience is None and "minor" in (conversation.flags or "").split():
        audience = Audience.MINORS
    async with rt.reading() as session:
        found = await queries.lookup_near(
            session,
            departements=departements_of(conversation),
            channel=conversation.channel,
            audience=audience,
        )
    return Directory(
        audience=audience,
        resources=[
            {**queries.card(r), "distance": queries.DISTANCE_NAMES[distance]}
            for r, distance in found
        ],
    )


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
    return await conversation_actions.send_card(
        rt,
        staff=staff,
        conversation_id=conversation_id,
        kind=MessageKind.REFERRAL,
        card=queries.card(resource),
        client_id=client_id,
        audit=AuditAction.REFERRAL_SENT,
        detail={"referral_id": referral_id},
    )
