from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class ReferralInvalid(DomainError):
    code = "referral_invalid"
    status = 422
    message = N_("Please check the resource: type, name, département, phone, audience and chats.")


class ReferralNotFound(NotFound):
    code = "referral_not_found"
    message = N_("This resource is not in the directory.")
