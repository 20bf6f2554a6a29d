"""One place that turns errors into answers: JSON for the API, a page for browsers, an
`error` frame for sockets. Never a stack trace to a user."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from confide import i18n
from confide.errors import DomainError, NotAuthenticated, ServiceUnavailable
from confide.i18n import N_

log = logging.getLogger(__name__)

#: Errors meaning "the database (or the network to it) is not there right now".
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, OSError, TimeoutError)


def request_lang(request: Request) -> str:
    return i18n.pick_lang(request.query_params.get("lang"))


def error_frame(error: DomainError, lang: str) -> dict[str, Any]:
    return {"type": "error", "code": error.code, "message": i18n.gettext(lang, error.message)}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _answer(request: Request, status: int, code: str, message: str) -> Response:
    lang = request_lang(request)
    text = i18n.gettext(lang, message)
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": text}}, status_code=status)
    from confide.web.templating import render

    return render(request, "error.html", lang=lang, status_code=status, message=text, code=code)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            return RedirectResponse("/staff/login", status_code=303)
        return _answer(request, exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _answer(request, 422, "invalid_request", N_("Some fields are missing or not valid."))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {
            404: N_("This page does not exist."),
            405: N_("This action is not allowed here."),
        }
        return _answer(
            request,
            exc.status_code,
            f"http_{exc.status_code}",
            messages.get(exc.status_code, N_("Request refused.")),
        )

    @app.exception_handler(DBAPIError)
    async def database_down(request: Request, exc: DBAPIError) -> Response:
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return _answer(request, 503, ServiceUnavailable.code, ServiceUnavailable.message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The path only: no client address, no query string (it may carry a language only,
        # but we keep the habit), no body.
        log.error(
            "unexpected error on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        return _answer(
            request, 500, "internal", N_("Something went wrong on our side. Please try again.")
        )
