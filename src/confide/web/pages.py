"""Page routes: the visitor's single page and the staff console."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from confide.conversations.schemas import Channel
from confide.security.guards import allow, public
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.strings import client_strings
from confide.web.templating import TEMPLATES_DIR, render

router = APIRouter()


@router.get("/", dependencies=[Depends(public("the anonymous visitor chat"))])
async def visitor_page(request: Request) -> Response:
    lang = request_lang(request)
    return render(
        request, "visitor.html", lang=lang, channels=list(Channel), strings=client_strings(lang)
    )


@router.get("/staff", dependencies=[Depends(allow(Permission.STAFF_CONSOLE))])
async def console_page(request: Request) -> Response:
    staff: StaffIdentity = request.state.staff
    lang = request_lang(request)
    return render(
        request,
        "console.html",
        lang=lang,
        staff=staff,
        can_chat=staff.can(Permission.CONVERSATION_CHAT),
        strings=client_strings(lang),
    )


@router.get("/favicon.ico", dependencies=[Depends(public("browsers ask for it on every page"))])
async def favicon(request: Request) -> Response:
    # With a neutral title, the icon is neutral too (a plain document), so a glance at the
    # tab bar or the history does not give the visitor away.
    neutral = bool(request.app.state.runtime.settings.neutral_title)
    name = "favicon-neutral.svg" if neutral else "favicon.svg"
    return FileResponse(TEMPLATES_DIR.parent / "static" / name, media_type="image/svg+xml")


@router.get("/healthz", dependencies=[Depends(public("load balancer health check"))])
async def health() -> Response:
    return PlainTextResponse("ok")
