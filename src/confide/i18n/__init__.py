"""Translations: English message ids, French by default.

Catalogues are `.po` files compiled in memory at start-up, so there is no build step and no
binary file in the repository.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANG = "fr"


@cache
def translations(lang: str) -> NullTranslations:
    """Gettext translations for `lang`; English is the message ids themselves."""
    if lang not in LANGUAGES or lang == "en":
        return NullTranslations()
    po = resources.files("confide.i18n").joinpath(lang, "LC_MESSAGES", "messages.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def pick_lang(requested: str | None, default: str = DEFAULT_LANG) -> str:
    return requested if requested in LANGUAGES else default


def N_(message: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return message
