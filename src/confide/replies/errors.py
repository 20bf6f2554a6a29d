from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class ReplyInvalid(DomainError):
    """A canned reply form with mistakes; `fields` maps each wrong field to its message."""

    code = "reply_invalid"
    status = 422
    message = N_("Please correct the fields marked below.")

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__()
        self.fields = fields


class ReplyNotFound(NotFound):
    code = "reply_not_found"
    message = N_("This canned reply does not exist (it may have been deleted).")


class GuidanceNotFound(NotFound):
    code = "guidance_not_found"
    message = N_("This guidance card does not exist for this chat.")
