from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confide.db import Base


class Conversation(Base):
    __tablename__ = "conversations"

    # Random public identifier (UUID4 hex): reveals nothing, not even an order.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    visitor_role: Mapped[str] = mapped_column(String(10))
    postcode: Mapped[str] = mapped_column(String(5))
    # Empty when the code is unknown: the national queue.
    departement: Mapped[str] = mapped_column(String(3), default="")
    # Every département the postal code may belong to (space-separated; some span two).
    departements: Mapped[str] = mapped_column(String(20), default="", server_default="")
    lang: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(12), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # Case-work flags set by staff ("danger", "minor"; space-separated): they set `priority`.
    flags: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Digest of the visitor's token; NULL once the visitor erased the conversation.
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Read state: the highest sequence number each side has seen (shown as "read" to the other).
    visitor_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    staff_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    assigned_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Routing: since when the visitor waits (reset by a re-queue), set when put back at the
    # head of the queue, when supervisors were alerted, and the team it was sent to (transfer).
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime)
    requeued_at: Mapped[datetime | None] = mapped_column(DateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(DateTime)
    team_id: Mapped[int | None] = mapped_column(Integer)
    # The conversation's random data key, wrapped by a master key (its first byte is the
    # master key's version). Bodies, notes and the voluntary identity are encrypted with it.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_conversations_queue", "status", "priority", "created_at"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author_kind: Mapped[str] = mapped_column(String(14))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    # Chosen by the sending client so that a resend after a lost ack stores nothing new.
    client_id: Mapped[str | None] = mapped_column(String(36))
    # The body (text, or the event code of a system message) encrypted with the
    # conversation's data key; read through `queries.message_out`.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # How clients show the body: NULL or "text" (plain text), "referral" (a JSON resource
    # card, `referrals.actions.send_referral`). The body itself stays encrypted either way.
    kind: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "client_id"),
    )
