"""Every route and socket declares who may use it; the role matrix holds the rules we promise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount

from confide.app import create_app
from confide.security.guards import declared_permission
from confide.security.permissions import ROLE_PERMISSIONS, Permission, Role, has_permission

# Mounts serve files, not behaviour; each is listed with its reason.
ALLOWED_MOUNTS = {"/static": "stylesheet, scripts and icon, the same for everybody"}


def _walk(routes: list[Any]) -> Iterator[Any]:
    """Routes of the app, including those of included routers (however FastAPI nests them)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _walk(nested.routes)
        else:
            yield route


def _declared(route: APIRoute | APIWebSocketRoute) -> list[Permission]:
    found = []
    for dependency in route.dependant.dependencies:
        permission = declared_permission(dependency.call)
        if permission is not None:
            found.append(permission)
    return found


def test_every_route_declares_a_permission() -> None:
    app = create_app()
    undeclared = []
    checked = 0
    for route in _walk(app.routes):
        if isinstance(route, Mount):
            assert route.path in ALLOWED_MOUNTS, f"mount {route.path} is not reviewed"
            continue
        assert isinstance(route, APIRoute | APIWebSocketRoute), f"unexpected route type {route!r}"
        checked += 1
        if len(_declared(route)) != 1:
            undeclared.append(route.path)
    assert not undeclared, f"routes without exactly one declared permission: {undeclared}"
    assert checked >= 8


def test_staff_routes_are_not_public() -> None:
    app = create_app()
    for route in _walk(app.routes):
        if isinstance(route, APIRoute | APIWebSocketRoute) and (
            route.path.startswith("/staff") or route.path == "/ws/staff"
        ):
            if route.path == "/staff/login":
                continue
            assert _declared(route) != [Permission.PUBLIC], route.path


def test_admin_and_prosecutor_cannot_read_or_take_conversations() -> None:
    for role in (Role.ADMIN, Role.PROSECUTOR):
        for permission in (
            Permission.CONVERSATION_TAKE,
            Permission.CONVERSATION_CHAT,
            Permission.CONVERSATION_READ_ALL,
            Permission.QUEUE_VIEW,
        ):
            assert not has_permission(role, permission), (role, permission)


def test_every_role_has_a_row_and_unknown_roles_have_nothing() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert not has_permission("visitor", Permission.STAFF_CONSOLE)
    assert not has_permission("", Permission.PUBLIC)
