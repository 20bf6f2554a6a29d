"""Tables of the signalements domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class Signalement(Base):
    """A report an officer writes for a competent unit about a conversation, exported for
    that unit (printable page or plain text)."""

    __tablename__ = "signalements"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    # The unit it is for: its name (from the directory or typed), and the directory entry it
    # was chosen from, if any (no foreign key: importing the directory replaces every entry).
    unit_name: Mapped[str] = mapped_column(String(200))
    referral_id: Mapped[int | None] = mapped_column(Integer)
    # immediate | within_24h | normal (schemas.Urgency).
    urgency: Mapped[str] = mapped_column(String(12))
    visitor_agreed_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    # The facts summary, and the contact details the visitor agreed to give (if any),
    # encrypted with the conversation's data key.
    facts_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    contact_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
