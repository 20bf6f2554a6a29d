"""Sealed connection metadata, the prosecution office's keys, requests to lift anonymity and
the identity a visitor chose to give. Every sensitive column is ciphertext."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class ProsecutorKey(Base):
    """A key pair of the prosecution office. The newest key without `retired_at` seals new
    conversations; retired keys stay so that older ciphertexts can still be opened."""

    __tablename__ = "prosecutor_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The private key encrypted under the prosecutor's passphrase (never stored itself).
    protected_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class SealedMetadata(Base):
    """{ip, port, user_agent, at} of the visitor who started a conversation, in a sealed box
    that only the prosecution office's private key opens."""

    __tablename__ = "sealed_metadata"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[int] = mapped_column(ForeignKey("prosecutor_keys.id"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class DisclosureRequest(Base):
    """An officer's request to lift a visitor's anonymity, and the prosecutor's decision."""

    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    requester_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    # immediate_danger or suspected_minor (Reason).
    reason: Mapped[str] = mapped_column(String(20))
    # The officer's justification, encrypted (it may quote the conversation).
    justification: Mapped[bytes] = mapped_column(LargeBinary)
    # pending, approved, refused or expired (RequestStatus).
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    # The prosecutor's reason for a refusal, encrypted.
    refusal: Mapped[bytes | None] = mapped_column(LargeBinary)
    # After approval: the opened metadata, encrypted under a server key, until `reveal_until`.
    revealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    reveal_until: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_disclosure_requests_status", "status", "reason", "created_at"),)


class VoluntaryIdentity(Base):
    """What the visitor chose to tell about themselves (each field optional), encrypted."""

    __tablename__ = "voluntary_identities"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
