"""Pages of the disclosure procedure: an officer files a request, a prosecutor reads the
conversation and decides, and both see the opened connection data for a limited time.
Server-rendered forms with the session's CSRF token; every rule is in `actions`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from confide.conversations import queries as conversation_queries
from confide.disclosure import actions, queries
from confide.disclosure.schemas import JUSTIFICATION_MAX, Reason
from confide.errors import DomainError
from confide.security.guards import allow, check_csrf, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.strings import client_strings
from confide.web.templating import render

router = APIRouter()
Requester = Annotated[StaffIdentity, Depends(allow(Permission.DISCLOSURE_REQUEST))]
Prosecutor = Annotated[StaffIdentity, Depends(allow(Permission.DISCLOSURE_DECIDE))]
Viewer = Annotated[StaffIdentity, Depends(allow(Permission.DISCLOSURE_VIEW))]
Csrf = Annotated[str, Form(max_length=100)]


def _back(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


async def _request_page(
    request: Request,
    staff: StaffIdentity,
    conversation_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    views = await actions.requests_of_conversation(
        runtime_of(request), staff=staff, conversation_id=conversation_id
    )
    return render(
        request,
        "disclosure_request.html",
        lang=request_lang(request),
        staff=staff,
        conversation_id=conversation_id,
        requests=views,
        reasons=list(Reason),
        justification_max=JUSTIFICATION_MAX,
        can_file=not any(v.status == "pending" for v in views),
        error=error,
        status_code=status,
    )


@router.get("/staff/conversations/{conversation_id}/disclosure")
async def request_page(request: Request, staff: Requester, conversation_id: str) -> Response:
    return await _request_page(request, staff, conversation_id)


@router.post("/staff/conversations/{conversation_id}/disclosure")
async def file_request(
    request: Request,
    staff: Requester,
    conversation_id: str,
    csrf: Csrf = "",
    reason: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=JUSTIFICATION_MAX + 100)] = "",
) -> Response:
    check_csrf(staff, csrf)
    try:
        await actions.request_disclosure(
            runtime_of(request),
            staff=staff,
            conversation_id=conversation_id,
            reason=reason,
            justification=justification,
        )
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _request_page(
            request, staff, conversation_id, error=error.message, status=error.status
        )
    return _back(f"/staff/conversations/{conversation_id}/disclosure")


@router.get("/prosecutor")
async def prosecutor_page(request: Request, staff: Prosecutor) -> Response:
    rt = runtime_of(request)
    async with rt.reading() as session:
        views = await queries.request_views(session, rt.keyring, limit=200)
    return render(
        request,
        "prosecutor.html",
        lang=request_lang(request),
        staff=staff,
        pending=[v for v in views if v.status == "pending"],
        decided=[v for v in views if v.status != "pending"][:50],
    )


async def _decision_page(
    request: Request,
    staff: StaffIdentity,
    request_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rt = runtime_of(request)
    view = await actions.request_for_decision(rt, staff=staff, request_id=request_id)
    conversation = await actions.open_requested_conversation(rt, staff=staff, request_id=request_id)
    async with rt.reading() as session:
        messages = await conversation_queries.messages_after(
            session, rt.keyring, conversation.id, 0
        )
    lang = request_lang(request)
    return render(
        request,
        "prosecutor_request.html",
        lang=lang,
        staff=staff,
        request_view=view,
        conversation=conversation,
        messages=messages,
        strings=client_strings(lang),
        error=error,
        status_code=status,
    )


@router.get("/prosecutor/requests/{request_id}")
async def decision_page(request: Request, staff: Prosecutor, request_id: int) -> Response:
    return await _decision_page(request, staff, request_id)


@router.post("/prosecutor/requests/{request_id}/approve")
async def approve(
    request: Request,
    staff: Prosecutor,
    request_id: int,
    csrf: Csrf = "",
    passphrase: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(staff, csrf)
    try:
        await actions.approve(
            runtime_of(request), staff=staff, request_id=request_id, passphrase=passphrase
        )
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _decision_page(
            request, staff, request_id, error=error.message, status=error.status
        )
    return _back(f"/staff/disclosures/{request_id}")


@router.post("/prosecutor/requests/{request_id}/refuse")
async def refuse(
    request: Request,
    staff: Prosecutor,
    request_id: int,
    csrf: Csrf = "",
    reason: Annotated[str, Form(max_length=JUSTIFICATION_MAX + 100)] = "",
) -> Response:
    check_csrf(staff, csrf)
    try:
        await actions.refuse(runtime_of(request), staff=staff, request_id=request_id, reason=reason)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _decision_page(
            request, staff, request_id, error=error.message, status=error.status
        )
    return _back("/prosecutor")


@router.get("/staff/disclosures/{request_id}")
async def revealed_page(request: Request, staff: Viewer, request_id: int) -> Response:
    opened = await actions.view_revealed(runtime_of(request), staff=staff, request_id=request_id)
    return render(
        request,
        "disclosure_view.html",
        lang=request_lang(request),
        staff=staff,
        request_id=request_id,
        opened=opened,
        back="/prosecutor" if staff.can(Permission.DISCLOSURE_DECIDE) else "/staff",
    )
