"""Route guards: every HTTP route and socket declares who may use it, here and only here.

`allow(Permission.X)` is a FastAPI dependency that authenticates the staff session cookie and
checks the permission; `public(reason)` marks a route open to anonymous visitors. A test walks
every route of the app and fails on any that declares neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, WebSocket

from confide.errors import PermissionDenied
from confide.i18n import N_
from confide.runtime import Runtime
from confide.security.permissions import Permission
from confide.staff import actions as staff_actions
from confide.staff.schemas import StaffIdentity

SESSION_COOKIE = "confide_staff"
GUARD_ATTRIBUTE = "__confide_guard__"


def runtime_of(connection: Request | WebSocket) -> Runtime:
    rt: Runtime = connection.app.state.runtime
    return rt


def allow(permission: Permission) -> Callable[[Request], Awaitable[StaffIdentity]]:
    """Dependency for staff routes: the logged-in staff member, if they hold `permission`."""

    async def guard(request: Request) -> StaffIdentity:
        identity = await staff_actions.authenticate_session(
            runtime_of(request), request.cookies.get(SESSION_COOKIE)
        )
        if not identity.can(permission):
            raise PermissionDenied()
        request.state.staff = identity
        return identity

    setattr(guard, GUARD_ATTRIBUTE, permission)
    return guard


def public(reason: str) -> Callable[[], Awaitable[None]]:
    """Dependency marking a route as deliberately open to anonymous users, with the reason."""

    async def guard() -> None:
        return None

    setattr(guard, GUARD_ATTRIBUTE, Permission.PUBLIC)
    guard.__doc__ = reason
    return guard


def socket_guard(permission: Permission) -> Callable[[], Awaitable[None]]:
    """Marks a socket endpoint with the permission that its handshake checks itself
    (visitor token in the first frame, or staff session cookie)."""

    async def guard() -> None:
        return None

    setattr(guard, GUARD_ATTRIBUTE, permission)
    return guard


def declared_permission(dependency: Any) -> Permission | None:
    value = getattr(dependency, GUARD_ATTRIBUTE, None)
    return value if isinstance(value, Permission) else None


async def staff_for_socket(websocket: WebSocket) -> StaffIdentity:
    """Authenticate a staff socket from its session cookie, refusing cross-site handshakes."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is not None and origin.split("://", 1)[-1] != host:
        raise PermissionDenied()
    return await staff_actions.authenticate_session(
        runtime_of(websocket), websocket.cookies.get(SESSION_COOKIE)
    )


def check_csrf(identity: StaffIdentity, submitted: str | None) -> None:
    """Forms of logged-in staff carry the session's CSRF token."""
    from confide.security import crypto

    if not submitted or not crypto.equals(submitted, identity.csrf_token):
        raise PermissionDenied(N_("This form has expired. Please reload the page and try again."))
