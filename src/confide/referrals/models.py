from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class ReferralResource(Base):
    """A place or line a visitor can be referred to (association, shelter, psychologist…)."""

    __tablename__ = "referral_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(5), default="")
    insee: Mapped[str] = mapped_column(String(5), default="")
    # Empty for a national line, which applies everywhere.
    departement: Mapped[str] = mapped_column(String(3), default="", index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(10))
    # Chats it serves, space-separated (domestic sexual discrimination).
    channels: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)
