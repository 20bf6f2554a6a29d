"""Tables of the replies domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class CannedReply(Base):
    """A prepared text staff insert into their composer and edit before sending.

    Written by supervisors and admins, not by visitors: it is no conversation content, so it is
    stored in clear."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # One chat (domestic, sexual, discrimination) or "all" for the three of them.
    channel: Mapped[str] = mapped_column(String(20))
    # The language of the visitors it is offered to ("fr" or "en").
    lang: Mapped[str] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Who wrote the current version; NULL when seeded from the command line.
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_canned_replies_lang_channel", "lang", "channel"),)
