"""Who may do what: one permission enum, one role matrix, checked on every route and frame."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    PSYCHOLOGIST = "psychologist"
    SUPERVISOR = "supervisor"
    PROSECUTOR = "prosecutor"
    ADMIN = "admin"


class Permission(StrEnum):
    # Anyone, anonymously: the visitor pages and starting a conversation.
    PUBLIC = "public"
    # Holder of a conversation token.
    VISITOR_CHAT = "visitor:conversation:chat"
    # Any logged-in staff member.
    STAFF_CONSOLE = "staff:console:view"
    QUEUE_VIEW = "staff:queue:view"
    CONVERSATION_TAKE = "staff:conversation:take"
    CONVERSATION_CHAT = "staff:conversation:chat"
    CONVERSATION_CLOSE = "staff:conversation:close"
    CONVERSATION_READ_ALL = "staff:conversation:read_all"
    CONVERSATION_TRANSFER = "staff:conversation:transfer"
    AVAILABILITY_SET = "staff:availability:set"
    # Referrals: look up the directory for a conversation and send a resource card into it.
    REFERRAL_SEND = "staff:referral:send"
    ALERTS_VIEW = "supervisor:alerts:view"
    SCHEDULE_EDIT = "supervisor:schedule:edit"
    TEAMS_MANAGE = "admin:teams:manage"
    STAFF_MANAGE = "admin:staff:manage"
    AUDIT_VIEW = "admin:audit:view"
    # Disclosure (issue 6): an officer asks to lift a visitor's anonymity; a prosecutor
    # decides, and to decide may read the conversations that have a request (audited).
    DISCLOSURE_REQUEST = "staff:disclosure:request"
    DISCLOSURE_DECIDE = "prosecutor:disclosure:decide"
    CONVERSATION_READ_REQUESTED = "prosecutor:conversation:read_requested"
    # See opened connection data: the action lets only the requester and the deciding
    # prosecutor through, and only until it expires.
    DISCLOSURE_VIEW = "staff:disclosure:view"
    # Console (issue 5).
    # Canned replies and complaint-guidance cards: use them in a conversation one is in.
    REPLIES_USE = "staff:replies:use"
    # Write canned replies (per chat type and language).
    REPLIES_MANAGE = "supervisor:replies:manage"
    # Internal notes and the danger / suspected-minor flags on a conversation one is in.
    CASEWORK_WRITE = "staff:casework:write"
    # Printable transcript (with its SHA-256) for the judicial procedure; audited.
    TRANSCRIPT_EXPORT = "staff:transcript:export"
    # Signalement to a competent unit: write it, and export it for that unit.
    SIGNALEMENT_WRITE = "staff:signalement:write"
    # Warm hand-off to a psychologist: ask (officer), accept (psychologist).
    HANDOFF_REQUEST = "staff:handoff:request"
    HANDOFF_ACCEPT = "staff:handoff:accept"
    # Supervisors: the live conversations of their teams; read (audited), join, reassign.
    CONVERSATION_SUPERVISE = "supervisor:conversation:supervise"
    # The referral directory: list, edit, import.
    REFERRALS_MANAGE = "admin:referrals:manage"


_CHAT = {
    Permission.STAFF_CONSOLE,
    Permission.QUEUE_VIEW,
    Permission.CONVERSATION_TAKE,
    Permission.CONVERSATION_CHAT,
    Permission.CONVERSATION_CLOSE,
    Permission.CONVERSATION_TRANSFER,
    Permission.AVAILABILITY_SET,
    Permission.REFERRAL_SEND,
    Permission.REPLIES_USE,
    Permission.CASEWORK_WRITE,
}
# Police work on a case (not psychologists').
_POLICE = {
    Permission.DISCLOSURE_REQUEST,
    Permission.DISCLOSURE_VIEW,
    Permission.TRANSCRIPT_EXPORT,
    Permission.SIGNALEMENT_WRITE,
    Permission.HANDOFF_REQUEST,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(_CHAT | _POLICE),
    # Psychologists listen and accept hand-offs; lifting anonymity is a police decision.
    Role.PSYCHOLOGIST: frozenset(_CHAT | {Permission.HANDOFF_ACCEPT}),
    Role.SUPERVISOR: frozenset(
        _CHAT
        | _POLICE
        | {
            Permission.CONVERSATION_READ_ALL,
            Permission.CONVERSATION_SUPERVISE,
            Permission.REPLIES_MANAGE,
            Permission.AUDIT_VIEW,
            Permission.ALERTS_VIEW,
            Permission.SCHEDULE_EDIT,
        }
    ),
    Role.PROSECUTOR: frozenset(
        {
            Permission.STAFF_CONSOLE,
            Permission.DISCLOSURE_DECIDE,
            Permission.DISCLOSURE_VIEW,
            Permission.CONVERSATION_READ_REQUESTED,
        }
    ),
    # Admins manage accounts; they do not read conversations.
    Role.ADMIN: frozenset(
        {
            Permission.STAFF_CONSOLE,
            Permission.STAFF_MANAGE,
            Permission.AUDIT_VIEW,
            Permission.TEAMS_MANAGE,
            Permission.SCHEDULE_EDIT,
            Permission.REPLIES_MANAGE,
            Permission.REFERRALS_MANAGE,
        }
    ),
}


def has_permission(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
