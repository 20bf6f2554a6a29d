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
from confide.i18n import N_
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


#: What each action means, for people reading the audit log (translated when shown).
ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.LOGIN: N_("Logged in"),
    AuditAction.LOGIN_FAILED: N_("Failed login"),
    AuditAction.LOGOUT: N_("Logged out"),
    AuditAction.STAFF_CREATED: N_("Account created"),
    AuditAction.CONVERSATION_READ: N_("Conversation opened"),
    AuditAction.CONVERSATION_ASSIGNED: N_("Conversation taken"),
    AuditAction.CONVERSATION_CLOSED: N_("Conversation closed"),
    AuditAction.CONVERSATION_REQUEUED: N_("Conversation back in the queue"),
    AuditAction.CONVERSATION_TRANSFERRED: N_("Conversation transferred"),
    AuditAction.TEAM_CHANGED: N_("Team changed"),
    AuditAction.TEAMS_IMPORTED: N_("Teams imported"),
    AuditAction.STAFF_AVAILABILITY: N_("Availability changed"),
    AuditAction.STAFF_ROUTING_CHANGED: N_("Capacity or shifts changed"),
    AuditAction.DISCLOSURE_KEY_CREATED: N_("Prosecution office key created"),
    AuditAction.DISCLOSURE_REQUESTED: N_("Lifting anonymity requested"),
    AuditAction.DISCLOSURE_APPROVED: N_("Lifting anonymity approved"),
    AuditAction.DISCLOSURE_REFUSED: N_("Lifting anonymity refused"),
    AuditAction.DISCLOSURE_VIEWED: N_("Connection data viewed"),
    AuditAction.IDENTITY_VIEWED: N_("Shared identity viewed"),
    AuditAction.RETENTION_PURGED: N_("Retention purge"),
    AuditAction.REFERRALS_IMPORTED: N_("Referral directory imported"),
    AuditAction.REFERRAL_SENT: N_("Resource sent"),
    AuditAction.REPLY_CHANGED: N_("Canned reply changed"),
    AuditAction.GUIDANCE_SENT: N_("Guidance card sent"),
    AuditAction.NOTE_ADDED: N_("Internal note added"),
    AuditAction.FLAGS_CHANGED: N_("Danger or minor flag changed"),
    AuditAction.TRANSCRIPT_EXPORTED: N_("Transcript exported"),
    AuditAction.SIGNALEMENT_CREATED: N_("Signalement written"),
    AuditAction.SIGNALEMENT_UPDATED: N_("Signalement changed"),
    AuditAction.SIGNALEMENT_EXPORTED: N_("Signalement exported"),
    AuditAction.HANDOFF_REQUESTED: N_("Psychologist hand-off requested"),
    AuditAction.HANDOFF_ACCEPTED: N_("Psychologist hand-off accepted"),
    AuditAction.HANDOFF_CANCELLED: N_("Psychologist hand-off cancelled"),
    AuditAction.CONVERSATION_JOINED: N_("Conversation joined by a supervisor"),
    AuditAction.CONVERSATION_REASSIGNED: N_("Conversation reassigned"),
    AuditAction.REFERRAL_CHANGED: N_("Referral directory changed"),
}


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
