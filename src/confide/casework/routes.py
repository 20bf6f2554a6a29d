"""HTTP routes of the casework domain: the transcript export (printable page and its
canonical text, whose SHA-256 the page prints). Every rule is in `actions`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import PlainTextResponse, Response

from confide.casework import actions
from confide.db import utcnow
from confide.security.guards import allow, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.strings import client_strings
from confide.web.templating import render

router = APIRouter()
Exporter = Annotated[StaffIdentity, Depends(allow(Permission.TRANSCRIPT_EXPORT))]


@router.get("/staff/conversations/{conversation_id}/transcript")
async def transcript_page(request: Request, staff: Exporter, conversation_id: str) -> Response:
    lang = request_lang(request)
    transcript = await actions.export_transcript(
        runtime_of(request), staff=staff, conversation_id=conversation_id, lang=lang, fmt="html"
    )
    return render(
        request,
        "transcript.html",
        lang=lang,
        staff=staff,
        transcript=transcript,
        exported_at=utcnow().strftime("%Y-%m-%d %H:%M:%S UTC"),
        exporter_role=client_strings(lang).get(f"author.{staff.role}", staff.role),
        text_url=f"/staff/conversations/{conversation_id}/transcript.txt?lang={lang}",
    )


@router.get("/staff/conversations/{conversation_id}/transcript.txt")
async def transcript_text(request: Request, staff: Exporter, conversation_id: str) -> Response:
    transcript = await actions.export_transcript(
        runtime_of(request),
        staff=staff,
        conversation_id=conversation_id,
        lang=request_lang(request),
        fmt="txt",
    )
    # Exactly the bytes whose SHA-256 the page prints.
    return PlainTextResponse(
        transcript.text.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="transcript.txt"'},
    )
