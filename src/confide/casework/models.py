"""Tables of the casework domain: internal notes and the closing qualification.

The danger / suspected-minor flags live on the conversation itself (`Conversation.flags`),
since the queue orders by the priority they set.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class ConversationNote(Base):
    """A staff member's internal note on a conversation, never shown to the visitor."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL")
    )
    # The note, encrypted with the conversation's data key.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ConversationOutcome(Base):
    """How a conversation was qualified when it was closed (one row per closed conversation).

    One boolean column per outcome so that statistics are plain `SUM`/`COUNT` queries."""

    __tablename__ = "conversation_outcomes"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    # The chat type the staff member confirmed (may differ from the visitor's choice).
    channel: Mapped[str] = mapped_column(String(20))
    # Offence suspected: yes | no | unknown.
    offence: Mapped[str] = mapped_column(String(10))
    information: Mapped[bool] = mapped_column(Boolean, default=False)
    referral: Mapped[bool] = mapped_column(Boolean, default=False)
    guidance: Mapped[bool] = mapped_column(Boolean, default=False)
    signalement: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
