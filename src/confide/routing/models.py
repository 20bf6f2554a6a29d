"""Teams, the départements and chats they cover, their members, and each staff member's
routing state (capacity, availability, presence, weekly shifts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # police, gendarmerie, national or psychologists (TeamKind).
    kind: Mapped[str] = mapped_column(String(20))
    # Space-separated chats (skills) the team handles: domestic sexual discrimination.
    channels: Mapped[str] = mapped_column(String(80))
    # "auto": the assignment engine hands out conversations; "pick": officers take them.
    mode: Mapped[str] = mapped_column(String(10), default="auto")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class TeamDepartement(Base):
    """One département a team covers."""

    __tablename__ = "team_departements"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    departement: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class OfficerState(Base):
    """Routing state of one staff member who chats (officer, psychologist, supervisor).

    Created on first need; its row is also the lock that keeps claims under capacity.
    """

    __tablename__ = "officer_states"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True
    )
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    # available, busy, away or offline (Availability), chosen in the console.
    availability: Mapped[str] = mapped_column(String(10), default="offline")
    availability_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Open console sockets on all nodes; 0 with `disconnected_at` set starts the grace period.
    connections: Mapped[int] = mapped_column(Integer, default=0)
    disconnected_at: Mapped[datetime | None] = mapped_column(DateTime)


class ConsolePresence(Base):
    """Open console sockets of a staff member on one node, refreshed by that node's heartbeat.

    `OfficerState.connections` counts consoles on all nodes; when a node dies without closing
    its sockets, its rows stop being refreshed, and the routing job takes them off the count
    (the grace period then starts as for any disconnection).
    """

    __tablename__ = "console_presence"

    node_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True
    )
    connections: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[datetime] = mapped_column(DateTime)


class ShiftSlot(Base):
    """One weekly working slot (UTC). A staff member with no slot is not held to a schedule."""

    __tablename__ = "shift_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    # 0 = Monday … 6 = Sunday; minutes from midnight, end > start (a slot ends the same day).
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class ConversationTransfer(Base):
    """History of hand-overs: who passed the conversation to whom, with the note."""

    __tablename__ = "conversation_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    from_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    to_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    # The hand-over note encrypted with the conversation's data key; NULL without a note.
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(DateTime)


class JobLease(Base):
    """Which node runs a background job; taken atomically, renewed while the node lives."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
