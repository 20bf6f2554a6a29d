"""Tables of the handoff domain: warm hand-offs to a psychologist, and the staff who follow a
conversation without being in charge of it (observers, and supervisors who joined)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class Handoff(Base):
    """An officer's request that a psychologist take over a conversation (issue 5)."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    from_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    # The officer's note for the psychologist, encrypted with the conversation's data key;
    # NULL without a note. The visitor never sees it.
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Whether the officer stays as a silent observer once a psychologist accepts.
    officer_stays: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending, accepted or cancelled (HandoffStatus).
    status: Mapped[str] = mapped_column(String(10), index=True)
    psychologist_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class ConversationParticipant(Base):
    """A staff member following a conversation they are not in charge of: an observer (reads
    only: an officer who stayed after a hand-off, a supervisor reading) or a member (writes
    alongside the person in charge: a supervisor who joined). `left_at` set once they leave."""

    __tablename__ = "conversation_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    # observer or member (ParticipantMode).
    mode: Mapped[str] = mapped_column(String(10))
    since: Mapped[datetime] = mapped_column(DateTime)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
