"""Writing to the tamper-evident audit log.

Every entry carries the SHA-256 of the previous entry, so modifying, inserting or deleting a
row breaks the chain (`confide audit verify`). Callers pass identifiers and small facts only:
no message content, no IP address, no token.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text

from confide.audit.models import AuditEvent
from confide.runtime import Tx
from confide.security import crypto

GENESIS = "0" * 64


class AuditAction(StrEnum):
    LOGIN = "staff.login"
    LOGIN_FAILED = "staff.login_failed"
    LOGOUT = "staff.logout"
    STAFF_CREATED = "staff.created"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_CLOSED = "conversation.closed"
    CONVERSATION_REQUEUED = "conversation.requeued"
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    TEAM_CHANGED = "team.changed"
    TEAMS_IMPORTED = "team.imported"
    STAFF_AVAILABILITY = "staff.availability"
    STAFF_ROUTING_CHANGED = "staff.routing_changed"
    # Disclosure (issue 6): never the metadata itself, only who did what and when.
    DISCLOSURE_KEY_CREATED = "disclosure.key_created"
    DISCLOSURE_REQUESTED = "disclosure.requested"
    DISCLOSURE_APPROVED = "disclosure.approved"
    DISCLOSURE_REFUSED = "disclosure.refused"
    DISCLOSURE_VIEWED = "disclosure.viewed"
    IDENTITY_VIEWED = "identity.viewed"
    RETENTION_PURGED = "retention.purged"
    REFERRALS_IMPORTED = "referral.imported"
    REFERRAL_SENT = "referral.sent"
    # Console (issue 5).
    REPLY_CHANGED = "reply.changed"
    GUIDANCE_SENT = "guidance.sent"
    NOTE_ADDED = "conversation.note_added"
    FLAGS_CHANGED = "conversation.flags_changed"
    TRANSCRIPT_EXPORTED = "transcript.exported"
    SIGNALEMENT_CREATED = "signalement.created"
    SIGNALEMENT_UPDATED = "signalement.updated"
    SIGNALEMENT_EXPORTED = "signalement.exported"
    HANDOFF_REQUESTED = "handoff.requested"
    HANDOFF_ACCEPTED = "handoff.accepted"
    HANDOFF_CANCELLED = "handoff.cancelled"
    CONVERSATION_JOINED = "conversation.joined"
    CONVERSATION_REASSIGNED = "conversation.reassigned"
    REFERRAL_CHANGED = "referral.changed"


def entry_hash(event: AuditEvent) -> str:
    canonical = json.dumps(
        [
            event.prev_hash,
            event.at.isoformat(),
            event.action,
            event.actor_staff_id,
            event.actor_label,
            event.conversation_id,
            event.detail,
        ],
        separators=(",", ":"),
    )
    return crypto.sha256_hex(canonical.encode())


async def record(
    tx: Tx,
    action: AuditAction,
    *,
    actor_staff_id: int | None,
    actor_label: str = "",
    conversation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    session = tx.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends across nodes so the chain stays linear.
        await session.execute(text("SELECT pg_advisory_xact_lock(7101)"))
    prev = await session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=tx.now,
        action=str(action),
        actor_staff_id=actor_staff_id,
        actor_label=actor_label,
        conversation_id=conversation_id,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=prev or GENESIS,
    )
    event.hash = entry_hash(event)
    session.add(event)
    await session.flush()
    return event
