from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Channel(StrEnum):
    DOMESTIC = "domestic"
    SEXUAL = "sexual"
    DISCRIMINATION = "discrimination"


class VisitorRole(StrEnum):
    VICTIM = "victim"
    WITNESS = "witness"


class Status(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    ERASED = "erased"


OPEN_STATUSES = (Status.WAITING, Status.ACTIVE)


class AuthorKind(StrEnum):
    VISITOR = "visitor"
    OFFICER = "officer"
    PSYCHOLOGIST = "psychologist"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


class MessageKind(StrEnum):
    """How a message body is shown: plain text, or a resource card (JSON document)."""

    TEXT = "text"
    REFERRAL = "referral"
    # A complaint-guidance card (JSON document), issue 5.
    GUIDANCE = "guidance"


class SystemEvent(StrEnum):
    """Bodies of system messages; clients show them in the reader's language."""

    ASSIGNED = "assigned"
    VISITOR_LEFT = "visitor_left"
    VISITOR_ERASED = "visitor_erased"
    CLOSED = "closed"
    # Routing (issue 4): who joined, hand-overs and returns to the queue.
    ASSIGNED_PSYCHOLOGIST = "assigned_psychologist"
    ASSIGNED_SUPERVISOR = "assigned_supervisor"
    REQUEUED = "requeued"
    TRANSFERRED_OFFICER = "transferred_officer"
    TRANSFERRED_PSYCHOLOGIST = "transferred_psychologist"
    TRANSFERRED_TEAM = "transferred_team"
    TRANSFERRED_TO_PSYCHOLOGISTS = "transferred_to_psychologists"

    @classmethod
    def joined(cls, role: str) -> SystemEvent:
        """The message telling the visitor which kind of person joined (role only)."""
        if role == "psychologist":
            return cls.ASSIGNED_PSYCHOLOGIST
        if role == "supervisor":
            return cls.ASSIGNED_SUPERVISOR
        return cls.ASSIGNED


class StartConversation(BaseModel):
    """Body of `POST /api/conversations`. Values are checked by the action, which gives
    each mistake its own clear message."""

    model_config = ConfigDict(extra="ignore")

    channel: str = Field(max_length=40)
    role: str = Field(max_length=20)
    postcode: str = Field(max_length=20)
    lang: str = Field(default="fr", max_length=5)


class StartedConversation(BaseModel):
    conversation_id: str
    token: str


class LeaveConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(max_length=100)
    erase: bool = False


@dataclass(frozen=True)
class Author:
    kind: AuthorKind
    staff_id: int | None = None


@dataclass(frozen=True)
class MessageOut:
    conversation_id: str
    seq: int
    author: str
    body: str
    at: datetime
    client_id: str | None
    #: The stored body could not be decrypted (damaged or tampered with): shown empty.
    unreadable: bool = False
    kind: str = MessageKind.TEXT

    def frame(self, *, with_conversation: bool) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "type": "message",
            "seq": self.seq,
            "author": self.author,
            "body": self.body,
            "at": self.at.isoformat(timespec="seconds") + "Z",
            "client_id": self.client_id,
            "kind": self.kind,
        }
        if with_conversation:
            frame["conversation_id"] = self.conversation_id
        if self.unreadable:
            frame["unreadable"] = True
        return frame
