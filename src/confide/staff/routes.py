"""Staff login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from confide.i18n import N_
from confide.routing import actions as routing_actions
from confide.security import crypto
from confide.security.guards import SESSION_COOKIE, allow, check_csrf, public, runtime_of
from confide.security.permissions import Permission
from confide.staff import actions
from confide.staff.errors import LoginFailed
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
LOGIN_CSRF_COOKIE = "confide_login_csrf"


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    csrf = crypto.new_token()
    response = render(
        request,
        "staff_login.html",
        lang=request_lang(request),
        csrf=csrf,
        error=error,
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=runtime_of(request).settings.secure_cookies,
        path="/staff/login",
    )
    return response


@router.get("/login", dependencies=[Depends(public("the staff login form"))])
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", dependencies=[Depends(public("staff log in with password and TOTP"))])
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    rt = runtime_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf or not expected or not crypto.equals(csrf, expected):
        return _login_page(
            request, error=N_("This form has expired. Please try again."), status_code=400
        )
    try:
        token, _identity = await actions.log_in(rt, username=username, password=password, code=code)
    except LoginFailed as failure:
        return _login_page(request, error=failure.message, status_code=400)
    response = RedirectResponse("/staff", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=rt.settings.staff_session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=rt.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return response


@router.post("/logout")
async def logout(
    request: Request,
    staff: Annotated[StaffIdentity, Depends(allow(Permission.STAFF_CONSOLE))],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(staff, csrf)
    await actions.log_out(runtime_of(request), staff)
    # Offline: no new chats; current ones go back to the queue after the grace period.
    await routing_actions.logged_out(runtime_of(request), staff_id=staff.id)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
