"""Jinja2 templates, rendered in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from confide import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    enable_async=False,
)


def render(
    request: Request, name: str, *, lang: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    translations = i18n.translations(lang)
    template = _env.get_template(name)
    html = template.render(
        request=request,
        lang=lang,
        other_lang="en" if lang == "fr" else "fr",
        settings=request.app.state.runtime.settings,
        gettext=translations.gettext,
        ngettext=translations.ngettext,
        _=translations.gettext,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
