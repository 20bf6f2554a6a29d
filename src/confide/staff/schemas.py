from __future__ import annotations

from dataclasses import dataclass

from confide.security.permissions import Permission, has_permission


@dataclass(frozen=True)
class StaffIdentity:
    """The logged-in staff member behind a request or socket."""

    id: int
    username: str
    display_name: str
    role: str
    session_id: int
    csrf_token: str

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)
