from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class AuditEvent(Base):
    """Append-only, hash-chained record of a staff action. Never message content, never an IP."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), index=True)
    # For failed logins with no account: the digest of the attempted username.
    actor_label: Mapped[str] = mapped_column(String(80), default="")
    conversation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
