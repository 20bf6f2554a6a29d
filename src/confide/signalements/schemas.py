"""Values and views of the signalements domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

FACTS_MAX = 4000
CONTACT_MAX = 1000
UNIT_MAX = 200
#: Kinds of directory entries a signalement can be addressed to.
UNIT_TYPES = ("unite_police_gendarmerie", "intervenant_social")
#: Topic event telling consoles that a conversation's signalements changed.
SAVED_EVENT = "signalement_saved"


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    WITHIN_24H = "within_24h"
    NORMAL = "normal"


@dataclass(frozen=True)
class SignalementForm:
    """What the officer typed, as typed (kept when the form comes back with errors).
    `referral_id` is the chosen directory entry ("" for a unit typed in `unit_name`)."""

    referral_id: str = ""
    unit_name: str = ""
    urgency: str = ""
    agreed_contact: bool = False
    facts: str = ""
    contact: str = ""


@dataclass(frozen=True)
class UnitChoice:
    """A unit of the directory near the conversation, offered in the form."""

    id: int
    name: str
    type: str
    departement: str
    distance: str


@dataclass(frozen=True)
class SignalementView:
    """A signalement with its texts decrypted and what the unit needs to know about the
    conversation (never the sealed connection data)."""

    id: int
    conversation_id: str
    unit_name: str
    referral_id: int | None
    urgency: str
    agreed_contact: bool
    facts: str
    contact: str
    created_at: datetime
    updated_at: datetime
    author_id: int
    author_name: str
    author_role: str
    channel: str
    visitor_role: str
    postcode: str
    departements: tuple[str, ...]

    @property
    def reference(self) -> str:
        """The number the unit quotes back: year of writing and id."""
        return f"SIG-{self.created_at:%Y}-{self.id:06d}"

    def form(self) -> SignalementForm:
        return SignalementForm(
            referral_id=str(self.referral_id) if self.referral_id is not None else "",
            unit_name="" if self.referral_id is not None else self.unit_name,
            urgency=self.urgency,
            agreed_contact=self.agreed_contact,
            facts=self.facts,
            contact=self.contact,
        )


def summary(signalement_id: int, unit_name: str, urgency: str, at: datetime) -> dict[str, Any]:
    """How the console lists a signalement (no text of it)."""
    return {
        "id": signalement_id,
        "unit": unit_name,
        "urgency": urgency,
        "at": at.isoformat(timespec="seconds") + "Z",
    }
