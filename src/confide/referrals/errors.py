from __future__ import annotations

from typing import TYPE_CHECKING

from confide.errors import DomainError, NotFound
from confide.i18n import N_

if TYPE_CHECKING:
    from confide.referrals.actions import Problem


class ReferralInvalid(DomainError):
    code = "referral_invalid"
    status = 422
    message = N_("Please check the resource: type, name, département, phone, audience and chats.")

    def __init__(self, problems: list[Problem] | None = None) -> None:
        super().__init__()
        #: What is wrong, field by field.
        self.problems: list[Problem] = list(problems or [])


class ReferralNotFound(NotFound):
    code = "referral_not_found"
    message = N_("This resource is not in the directory.")


class AudienceInvalid(DomainError):
    code = "audience_invalid"
    status = 422
    message = N_("Choose who the resources are for: women, minors, or everyone.")
