"""Management pages of canned replies (supervisors and admins): list grouped by chat type and
language, create, edit, delete. Server-rendered forms with the session's CSRF token; a form
with mistakes comes back with each field's message and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from confide.replies import actions, queries
from confide.replies.errors import ReplyInvalid, ReplyNotFound
from confide.replies.models import CannedReply
from confide.security.guards import allow, check_csrf, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
Manager = Annotated[StaffIdentity, Depends(allow(Permission.REPLIES_MANAGE))]
Csrf = Annotated[str, Form(max_length=100)]


async def _reply_form(
    title: Annotated[str, Form(max_length=1000)] = "",
    body: Annotated[str, Form(max_length=20_000)] = "",
    channel: Annotated[str, Form(max_length=40)] = "",
    lang: Annotated[str, Form(max_length=10)] = "",
) -> dict[str, str]:
    """The reply form as typed (kept to show it again when there is a mistake)."""
    return {"title": title, "body": body, "channel": channel, "lang": lang}


ReplyForm = Annotated[dict[str, str], Depends(_reply_form)]


def _back(request: Request, url: str) -> Response:
    lang = request.query_params.get("lang")
    return RedirectResponse(f"{url}?lang={lang}" if lang else url, status_code=303)


def _values(reply: CannedReply | None) -> dict[str, str]:
    if reply is None:
        return {"title": "", "body": "", "channel": queries.ALL_CHANNELS, "lang": "fr"}
    return {"title": reply.title, "body": reply.body, "channel": reply.channel, "lang": reply.lang}


def _page(
    request: Request,
    staff: StaffIdentity,
    template: str,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        lang=request_lang(request),
        staff=staff,
        values=values,
        errors=errors or {},
        channels=queries.REPLY_CHANNELS,
        langs=queries.REPLY_LANGS,
        title_max=actions.TITLE_MAX_CHARS,
        body_max=actions.BODY_MAX_CHARS,
        status_code=status,
        **context,
    )


async def _list_page(
    request: Request,
    staff: StaffIdentity,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with runtime_of(request).reading() as session:
        replies = await queries.all_replies(session)
    return _page(
        request,
        staff,
        "admin_replies.html",
        values=values or _values(None),
        errors=errors,
        status=status,
        groups=queries.grouped(replies),
    )


async def _edit_page(
    request: Request,
    staff: StaffIdentity,
    reply_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with runtime_of(request).reading() as session:
        reply = await session.get(CannedReply, reply_id)
    if reply is None:
        raise ReplyNotFound()
    return _page(
        request,
        staff,
        "admin_replies_edit.html",
        values=values or _values(reply),
        errors=errors,
        status=status,
        reply=reply,
    )


@router.get("/replies")
async def replies_page(request: Request, staff: Manager) -> Response:
    return await _list_page(request, staff)


@router.post("/replies")
async def create_reply(
    request: Request, staff: Manager, form: ReplyForm, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    try:
        spec = actions.check_reply(**form)
    except ReplyInvalid as error:
        return await _list_page(request, staff, values=form, errors=error.fields, status=422)
    await actions.save_reply(runtime_of(request), actor=staff, spec=spec)
    return _back(request, "/staff/replies")


@router.get("/replies/{reply_id}")
async def reply_page(request: Request, staff: Manager, reply_id: int) -> Response:
    return await _edit_page(request, staff, reply_id)


@router.post("/replies/{reply_id}")
async def update_reply(
    request: Request, staff: Manager, reply_id: int, form: ReplyForm, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    try:
        spec = actions.check_reply(**form)
    except ReplyInvalid as error:
        return await _edit_page(
            request, staff, reply_id, values=form, errors=error.fields, status=422
        )
    await actions.save_reply(runtime_of(request), actor=staff, spec=spec, reply_id=reply_id)
    return _back(request, "/staff/replies")


@router.post("/replies/{reply_id}/delete")
async def delete_reply(
    request: Request, staff: Manager, reply_id: int, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    await actions.delete_reply(runtime_of(request), actor=staff, reply_id=reply_id)
    return _back(request, "/staff/replies")
