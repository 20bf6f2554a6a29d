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


_CHAT = {
    Permission.STAFF_CONSOLE,
    Permission.QUEUE_VIEW,
    Permission.CONVERSATION_TAKE,
    Permission.CONVERSATION_CHAT,
    Permission.CONVERSATION_CLOSE,
    Permission.CONVERSATION_TRANSFER,
    Permission.AVAILABILITY_SET,
    Permission.REFERRAL_SEND,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(_CHAT | {Permission.DISCLOSURE_REQUEST, Permission.DISCLOSURE_VIEW}),
    # Psychologists listen; lifting anonymity is a police decision.
    Role.PSYCHOLOGIST: frozenset(_CHAT),
    Role.SUPERVISOR: frozenset(
        _CHAT
        | {
            Permission.DISCLOSURE_REQUEST,
            Permission.DISCLOSURE_VIEW,
            Permission.CONVERSATION_READ_ALL,
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
        }
    ),
}


def has_permission(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
