from __future__ import annotations

from confide.errors import DomainError
from confide.i18n import N_


class DateInvalid(DomainError):
    code = "date_invalid"
    status = 422
    message = N_("Please enter dates as YYYY-MM-DD.")
