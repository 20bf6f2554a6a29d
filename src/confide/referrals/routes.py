"""The referral directory admin page (`/staff/referrals`, admins): list with filters, add,
change and delete an entry, and replace the whole directory with a CSV file. Server-rendered
forms with the session's CSRF token; every rule is in `actions`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from confide import i18n
from confide.conversations.schemas import Channel
from confide.referrals import actions, queries
from confide.referrals.actions import Audience, ImportReport, Problem, ReferralType
from confide.referrals.errors import ReferralInvalid, ReferralNotFound
from confide.referrals.models import ReferralResource
from confide.routing import postcodes
from confide.security.guards import allow, check_csrf, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
Manager = Annotated[StaffIdentity, Depends(allow(Permission.REFERRALS_MANAGE))]
Csrf = Annotated[str, Form(max_length=100)]


async def _entry_form(
    type: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    address: Annotated[str, Form(max_length=600)] = "",
    postcode: Annotated[str, Form(max_length=20)] = "",
    insee: Annotated[str, Form(max_length=20)] = "",
    departement: Annotated[str, Form(max_length=20)] = "",
    phone: Annotated[str, Form(max_length=60)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    hours: Annotated[str, Form(max_length=400)] = "",
    audience: Annotated[str, Form(max_length=20)] = "",
    channels: Annotated[list[str] | None, Form()] = None,
    source: Annotated[str, Form(max_length=400)] = "",
) -> dict[str, str]:
    """The entry form as typed (kept when it comes back with errors)."""
    return {
        "type": type,
        "name": name,
        "address": address,
        "postcode": postcode,
        "insee": insee,
        "departement": departement,
        "phone": phone,
        "email": email,
        "hours": hours,
        "audience": audience,
        "channels": " ".join(c[:40] for c in (channels or [])[:10]),
        "source": source,
    }


EntryForm = Annotated[dict[str, str], Depends(_entry_form)]


def _departements() -> list[tuple[str, str]]:
    return sorted(
        (
            (code, postcodes.departement_name(code) or code)
            for code in postcodes.departement_codes()
        ),
        key=lambda pair: (len(pair[0]) > 2, pair[0]),
    )


def _choices() -> dict[str, object]:
    return {
        "types": list(ReferralType),
        "audiences": list(Audience),
        "channels": list(Channel),
        "departements": _departements(),
    }


def _lang_url(request: Request, url: str, **params: str | int) -> str:
    return f"{url}?{urlencode({'lang': request_lang(request), **params})}"


def _values(resource: ReferralResource) -> dict[str, str]:
    return {column: str(getattr(resource, column) or "") for column in actions.IMPORT_COLUMNS}


def _problems_by_field(problems: list[Problem], lang: str) -> dict[str, str]:
    translate = i18n.translations(lang).gettext
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(problem.field or "form", problem.text(translate))
    return found


async def _list_page(
    request: Request,
    staff: StaffIdentity,
    *,
    report: ImportReport | None = None,
    status: int = 200,
) -> Response:
    params = request.query_params
    filters = {
        "departement": (params.get("departement") or "")[:20],
        "type": (params.get("type") or "")[:40],
        "channel": (params.get("channel") or "")[:40],
        "q": (params.get("q") or "")[:200],
    }
    try:
        page_number = max(1, int(params.get("page") or 1))
    except ValueError:
        page_number = 1
    rt = runtime_of(request)
    async with rt.reading() as session:
        page = await queries.search(
            session,
            departement=filters["departement"],
            type=filters["type"],
            channel=filters["channel"],
            text=filters["q"],
            page=page_number,
        )
    lang = request_lang(request)
    translate = i18n.translations(lang).gettext
    active = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "admin_referrals.html",
        lang=lang,
        staff=staff,
        page=page,
        filters=filters,
        national=queries.NATIONAL_FILTER,
        previous_url=_lang_url(request, "/staff/referrals", **active, page=page.page - 1)
        if page.page > 1
        else None,
        next_url=_lang_url(request, "/staff/referrals", **active, page=page.page + 1)
        if page.page < page.pages
        else None,
        import_errors=[(line, p.text(translate)) for line, p in report.problems] if report else [],
        imported=params.get("imported"),
        saved=params.get("saved"),
        deleted=params.get("deleted") == "1",
        max_mb=actions.IMPORT_MAX_BYTES // 1_000_000,
        status_code=status,
        **_choices(),
    )


@router.get("/referrals")
async def list_page(request: Request, staff: Manager) -> Response:
    return await _list_page(request, staff)


def _entry_page(
    request: Request,
    staff: StaffIdentity,
    *,
    values: dict[str, str],
    referral_id: int | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_referrals_edit.html",
        lang=request_lang(request),
        staff=staff,
        values=values,
        referral_id=referral_id,
        errors=errors or {},
        status_code=status,
        **_choices(),
    )


@router.get("/referrals/new")
async def new_page(request: Request, staff: Manager) -> Response:
    empty = dict.fromkeys(actions.IMPORT_COLUMNS, "")
    empty["audience"] = Audience.ALL
    empty["channels"] = " ".join(Channel)
    return _entry_page(request, staff, values=empty, referral_id=None)


async def _save(
    request: Request, staff: StaffIdentity, values: dict[str, str], referral_id: int | None
) -> Response:
    try:
        saved = await actions.save_referral(
            runtime_of(request), staff=staff, values=values, referral_id=referral_id
        )
    except ReferralInvalid as error:
        return _entry_page(
            request,
            staff,
            values=values,
            referral_id=referral_id,
            errors=_problems_by_field(error.problems, request_lang(request)),
            status=422,
        )
    return RedirectResponse(_lang_url(request, "/staff/referrals", saved=saved.id), status_code=303)


@router.post("/referrals/new")
async def create(request: Request, staff: Manager, values: EntryForm, csrf: Csrf = "") -> Response:
    check_csrf(staff, csrf)
    return await _save(request, staff, values, None)


@router.post("/referrals/import")
async def import_file(
    request: Request,
    staff: Manager,
    csrf: Csrf = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(staff, csrf)
    data = await file.read(actions.IMPORT_MAX_BYTES + 1) if file is not None else b""
    text = actions.decode_upload(data)
    report = (
        text
        if isinstance(text, ImportReport)
        else await actions.import_referrals(runtime_of(request), text, staff=staff)
    )
    if report.problems:
        return await _list_page(request, staff, report=report, status=422)
    return RedirectResponse(
        _lang_url(request, "/staff/referrals", imported=report.resources), status_code=303
    )


@router.get("/referrals/{referral_id}")
async def edit_page(request: Request, staff: Manager, referral_id: int) -> Response:
    async with runtime_of(request).reading() as session:
        resource = await session.get(ReferralResource, referral_id)
    if resource is None:
        raise ReferralNotFound()
    return _entry_page(request, staff, values=_values(resource), referral_id=referral_id)


@router.post("/referrals/{referral_id}")
async def update(
    request: Request, staff: Manager, referral_id: int, values: EntryForm, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    return await _save(request, staff, values, referral_id)


@router.post("/referrals/{referral_id}/delete")
async def delete(request: Request, staff: Manager, referral_id: int, csrf: Csrf = "") -> Response:
    check_csrf(staff, csrf)
    await actions.delete_referral(runtime_of(request), staff=staff, referral_id=referral_id)
    return RedirectResponse(_lang_url(request, "/staff/referrals", deleted=1), status_code=303)
