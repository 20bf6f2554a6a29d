"""Values of the casework domain: flags, the closing qualification, notes as shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from confide.casework.errors import (
    CHANNEL_MISSING,
    OFFENCE_MISSING,
    OUTCOMES_MISSING,
    QualificationInvalid,
)
from confide.conversations.schemas import Channel

NOTE_MAX_CHARS = 2000
E = TypeVar("E", bound=StrEnum)


class Flag(StrEnum):
    DANGER = "danger"
    MINOR = "minor"


#: Queue priority a flag gives; the highest set flag wins, none is 0.
FLAG_PRIORITY = {Flag.DANGER: 2, Flag.MINOR: 1}


def parse_flags(stored: str | None) -> list[str]:
    """The flags stored on a conversation, in a stable order (danger first)."""
    present = set((stored or "").split())
    return [flag.value for flag in Flag if flag.value in present]


def priority_of(flags: list[str]) -> int:
    return max((FLAG_PRIORITY[Flag(f)] for f in flags), default=0)


class Offence(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    INFORMATION = "information"
    REFERRAL = "referral"
    GUIDANCE = "guidance"
    SIGNALEMENT = "signalement"
    EMERGENCY = "emergency"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class Qualification:
    """What the staff member states when closing: confirmed chat type, whether an offence is
    suspected, and what was done (at least one outcome)."""

    channel: Channel
    offence: Offence
    outcomes: frozenset[Outcome]

    def as_detail(self) -> dict[str, Any]:
        """For the audit log and frames: codes only, never free text."""
        return {
            "channel": self.channel.value,
            "offence": self.offence.value,
            "outcomes": [o.value for o in Outcome if o in self.outcomes],
        }


def _member(enum: type[E], value: object) -> E | None:
    try:
        return enum(value)  # type: ignore[arg-type]  # anything a client sent: checked here
    except (ValueError, TypeError):
        return None


def parse_qualification(raw: object) -> Qualification:
    """Check a closing form `{channel, offence, outcomes}`; raises `QualificationInvalid`
    naming what is missing or wrong."""
    data = raw if isinstance(raw, dict) else {}
    channel = _member(Channel, data.get("channel"))
    offence = _member(Offence, data.get("offence"))
    values = data.get("outcomes")
    outcomes = [_member(Outcome, v) for v in values] if isinstance(values, list) else []
    checked = [o for o in outcomes if o is not None]
    outcomes_ok = bool(checked) and len(checked) == len(outcomes)
    missing = [
        message
        for ok, message in (
            (channel is not None, CHANNEL_MISSING),
            (offence is not None, OFFENCE_MISSING),
            (outcomes_ok, OUTCOMES_MISSING),
        )
        if not ok
    ]
    if channel is None or offence is None or not outcomes_ok:
        raise QualificationInvalid(missing[0] if len(missing) == 1 else None)
    return Qualification(channel=channel, offence=offence, outcomes=frozenset(checked))


@dataclass(frozen=True)
class NoteOut:
    author_role: str
    author_name: str
    at: datetime
    body: str

    def frame(self) -> dict[str, Any]:
        return {
            "author_role": self.author_role,
            "author_name": self.author_name,
            "at": self.at.isoformat(timespec="seconds") + "Z",
            "body": self.body,
        }
