from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class SignalementInvalid(DomainError):
    code = "signalement_invalid"
    status = 422
    message = N_("Please check the fields marked below.")

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__()
        #: field name → English message id of what is wrong with it.
        self.fields = fields


class SignalementNotFound(NotFound):
    code = "signalement_not_found"
    message = N_("This signalement cannot be found.")


class NothingShared(DomainError):
    code = "identity_absent"
    status = 409
    message = N_("The person has not shared any contact details in this conversation.")
