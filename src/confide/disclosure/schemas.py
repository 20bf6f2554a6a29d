from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

#: Fields of the voluntary identity form, each optional.
IDENTITY_FIELDS = ("name", "phone", "email", "address")
IDENTITY_FIELD_MAX = 200
JUSTIFICATION_MAX = 2000


class Reason(StrEnum):
    IMMEDIATE_DANGER = "immediate_danger"
    SUSPECTED_MINOR = "suspected_minor"


#: Most urgent first in the prosecutor's list.
REASON_URGENCY = {Reason.IMMEDIATE_DANGER: 0, Reason.SUSPECTED_MINOR: 1}


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a visitor connected from, as seen by the server (or its trusted proxy).

    Only ever held in memory, sealed at once; never logged (no __repr__ of the values)."""

    ip: str
    port: int | None
    user_agent: str

    def __repr__(self) -> str:
        return "ConnectionInfo(…)"


@dataclass(frozen=True)
class OpenedMetadata:
    ip: str
    port: int | None
    user_agent: str
    at: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> OpenedMetadata:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            ip=str(raw.get("ip", "")),
            port=raw.get("port") if isinstance(raw.get("port"), int) else None,
            user_agent=str(raw.get("user_agent", "")),
            at=str(raw.get("at", "")),
        )

    def __repr__(self) -> str:
        return "OpenedMetadata(…)"


@dataclass(frozen=True)
class RequestView:
    """A request as shown to its requester or to a prosecutor (decrypted texts)."""

    id: int
    conversation_id: str
    reason: str
    justification: str
    status: str
    created_at: datetime
    requester_id: int
    requester: str
    decided_at: datetime | None
    decider: str | None
    refusal: str | None
    reveal_until: datetime | None
