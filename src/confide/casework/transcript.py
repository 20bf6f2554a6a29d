"""The transcript of a conversation for the judicial procedure: one structure, rendered as a
canonical UTF-8 text (`transcript.txt`, whose SHA-256 is printed on the HTML page) and as a
printable HTML page built from the same lines, so a clerk can check the digest with
`sha256sum`.

Left out on purpose: sealed connection data, the voluntary identity and internal notes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from confide import i18n
from confide.casework.queries import TranscriptMessage
from confide.casework.schemas import Outcome, Qualification, parse_flags
from confide.conversations.models import Conversation
from confide.conversations.schemas import AuthorKind, MessageKind
from confide.i18n import N_
from confide.security import crypto
from confide.web.strings import client_strings

PARIS = ZoneInfo("Europe/Paris")

TITLE = N_("Transcript of conversation {id}")
LABEL_CONVERSATION = N_("Conversation")
LABEL_CHANNEL = N_("Chat type (visitor's choice)")
LABEL_ROLE = N_("The person is a")
LABEL_DEPARTEMENT = N_("Département")
LABEL_STATUS = N_("Status")
LABEL_FLAGS = N_("Flags")
LABEL_STARTED = N_("Started")
LABEL_ASSIGNED = N_("Taken by a staff member")
LABEL_CLOSED = N_("Ended")
LABEL_MESSAGES = N_("Messages")
LABEL_QUALIFICATION = N_("Closing qualification")
LABEL_CONFIRMED_CHANNEL = N_("Confirmed chat type")
LABEL_OFFENCE = N_("Offence suspected")
LABEL_OUTCOMES = N_("Outcomes")
NOT_QUALIFIED = N_("Not closed by a staff member: no qualification.")
NOT_YET = N_("not yet")
NO_MESSAGE = N_("No message.")
UNREADABLE = N_("[this message cannot be read]")


def both_times(at: datetime | None, none_text: str) -> str:
    """`2026-03-01 09:30:00 UTC (10:30:00 Europe/Paris)`, both dates when they differ."""
    if at is None:
        return none_text
    utc = at.replace(tzinfo=UTC)
    paris = utc.astimezone(PARIS)
    local = paris.strftime("%H:%M:%S" if paris.date() == utc.date() else "%Y-%m-%d %H:%M:%S")
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC ({local} Europe/Paris)"


@dataclass(frozen=True)
class TranscriptLine:
    seq: int
    at: str
    author: str
    #: The body as plain text lines (cards flattened into readable lines).
    lines: list[str]
    system: bool = False


@dataclass(frozen=True)
class Transcript:
    conversation_id: str
    title: str
    fields: list[tuple[str, str]]
    messages: list[TranscriptLine]
    qualification: list[tuple[str, str]]
    headings: dict[str, str] = field(default_factory=dict)
    text: str = ""
    digest: str = ""


def card_lines(S: dict[str, str], kind: str, body: str) -> list[str]:
    """A card message (resource, guidance) as readable text lines; plain text as its lines."""
    if kind not in (MessageKind.REFERRAL, MessageKind.GUIDANCE):
        return body.splitlines() or [""]
    try:
        card: Any = json.loads(body)
    except ValueError:
        card = None
    if not isinstance(card, dict):
        return body.splitlines() or [""]
    lines: list[str] = []

    def add(value: object, prefix: str = "") -> None:
        if isinstance(value, str | int | float) and str(value).strip():
            lines.append(f"{prefix}{value}")

    if kind == MessageKind.REFERRAL:
        add(S.get(f"referral.type.{card.get('type')}", card.get("type") or ""))
        add(card.get("name"))
        add(", ".join(str(card[k]) for k in ("address", "postcode") if card.get(k)))
        if card.get("hours"):
            add(card["hours"], f"{S['referral.hours']} ")
        add(card.get("phone"), f"{S['referral.call']} ")
        add(card.get("email"), f"{S['referral.mail']} ")
        return lines or [body]
    add(card.get("title"))
    for section in card.get("sections") or []:
        if not isinstance(section, dict):
            continue
        add(section.get("heading"))
        for item in section.get("items") or []:
            add(item, "- ")
    for phone in card.get("phones") or []:
        if isinstance(phone, dict):
            add(f"{phone.get('label', '')} {phone.get('number', '')}".strip())
    return lines or [body]


def _author(S: dict[str, str], item: TranscriptMessage) -> str:
    kind = item.message.author
    if kind == AuthorKind.VISITOR:
        return S["author.person"]
    if kind == AuthorKind.SYSTEM:
        return S["author.system"]
    role = S.get(f"author.{item.staff_role or kind}", item.staff_role or kind)
    return f"{role} {item.staff_name}" if item.staff_name else role


def build_transcript(
    conversation: Conversation,
    messages: list[TranscriptMessage],
    qualification: Qualification | None,
    *,
    lang: str,
) -> Transcript:
    S = client_strings(lang)
    t = i18n.translations(lang).gettext
    flags = parse_flags(conversation.flags)
    fields = [
        (t(LABEL_CONVERSATION), conversation.id),
        (t(LABEL_CHANNEL), S.get(f"channel.{conversation.channel}", conversation.channel)),
        (t(LABEL_ROLE), S.get(f"role.{conversation.visitor_role}", conversation.visitor_role)),
        (t(LABEL_DEPARTEMENT), conversation.departement or S["dept.unknown"]),
        (t(LABEL_STATUS), S.get(f"casework.status.{conversation.status}", conversation.status)),
        (t(LABEL_FLAGS), ", ".join(S[f"flag.{f}"] for f in flags) or "-"),
        (t(LABEL_STARTED), both_times(conversation.created_at, t(NOT_YET))),
        (t(LABEL_ASSIGNED), both_times(conversation.assigned_at, t(NOT_YET))),
        (t(LABEL_CLOSED), both_times(conversation.closed_at, t(NOT_YET))),
    ]
    lines = []
    for item in messages:
        message = item.message
        system = message.author == AuthorKind.SYSTEM
        if message.unreadable:
            body = [t(UNREADABLE)]
        elif system:
            body = [S.get(f"system.{message.body}", message.body)]
        else:
            body = card_lines(S, message.kind, message.body)
        lines.append(
            TranscriptLine(
                seq=message.seq,
                at=both_times(message.at, ""),
                author=_author(S, item),
                lines=body,
                system=system,
            )
        )
    qualified: list[tuple[str, str]] = []
    if qualification is not None:
        qualified = [
            (
                t(LABEL_CONFIRMED_CHANNEL),
                S.get(f"channel.{qualification.channel}", qualification.channel),
            ),
            (t(LABEL_OFFENCE), S[f"offence.{qualification.offence}"]),
            (
                t(LABEL_OUTCOMES),
                ", ".join(S[f"outcome.{o}"] for o in Outcome if o in qualification.outcomes),
            ),
        ]
    headings = {
        "messages": t(LABEL_MESSAGES),
        "qualification": t(LABEL_QUALIFICATION),
        "not_qualified": t(NOT_QUALIFIED),
        "no_message": t(NO_MESSAGE),
    }
    transcript = Transcript(
        conversation_id=conversation.id,
        title=t(TITLE).format(id=conversation.id),
        fields=fields,
        messages=lines,
        qualification=qualified,
        headings=headings,
    )
    text = render_text(transcript)
    return replace(transcript, text=text, digest=crypto.sha256_hex(text.encode("utf-8")))


def render_text(transcript: Transcript) -> str:
    """The canonical text: UTF-8, `\\n` line ends, one final newline. Its SHA-256 is the
    digest printed on the page; the export time is not in it, so it is reproducible."""
    out = [transcript.title, ""]
    out += [f"{label}: {value}" for label, value in transcript.fields]
    out += ["", f"== {transcript.headings['messages']} =="]
    if not transcript.messages:
        out.append(transcript.headings["no_message"])
    for line in transcript.messages:
        out.append("")
        out.append(f"#{line.seq} {line.at} - {line.author}")
        out += [f"    {text}" for text in line.lines]
    out += ["", f"== {transcript.headings['qualification']} =="]
    if transcript.qualification:
        out += [f"{label}: {value}" for label, value in transcript.qualification]
    else:
        out.append(transcript.headings["not_qualified"])
    return "\n".join(text.replace("\r\n", "\n").replace("\r", "\n") for text in out) + "\n"
