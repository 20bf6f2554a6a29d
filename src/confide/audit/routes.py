"""`/staff/audit`: supervisors and admins search the audit log (filters, pages)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from confide.audit import queries
from confide.audit.actions import ACTION_LABELS, AuditAction
from confide.audit.errors import DateInvalid
from confide.security.guards import allow, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
Auditor = Annotated[StaffIdentity, Depends(allow(Permission.AUDIT_VIEW))]
Text = Annotated[str, Query(max_length=100)]


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DateInvalid() from None


@router.get("/audit")
async def audit_page(
    request: Request,
    staff: Auditor,
    action: Text = "",
    username: Text = "",
    conversation_id: Text = "",
    date_from: Text = "",
    date_to: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    lang = request_lang(request)
    error: str | None = None
    try:
        filters = queries.AuditFilters(
            action=action if action in set(AuditAction) else "",
            username=username.strip(),
            conversation_id=conversation_id.strip(),
            date_from=_date(date_from.strip()),
            date_to=_date(date_to.strip()),
        )
    except DateInvalid as invalid:
        error, filters = invalid.message, queries.AuditFilters()
    async with runtime_of(request).reading() as session:
        rows, more = await queries.search(session, filters, page=page)
    kept = {
        "lang": lang,
        "action": filters.action,
        "username": filters.username,
        "conversation_id": filters.conversation_id,
        "date_from": date_from if filters.date_from else "",
        "date_to": date_to if filters.date_to else "",
    }
    kept = {k: v for k, v in kept.items() if v}
    return render(
        request,
        "audit.html",
        lang=lang,
        staff=staff,
        rows=rows,
        actions=[str(a) for a in AuditAction],
        labels={str(a): label for a, label in ACTION_LABELS.items()},
        filters=filters,
        date_from=kept.get("date_from", ""),
        date_to=kept.get("date_to", ""),
        older=f"?{urlencode({**kept, 'page': page + 1})}" if more else None,
        newer=f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        error=error,
        status_code=422 if error else 200,
    )
