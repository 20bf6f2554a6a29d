from __future__ import annotations

from confide.errors import DomainError, NotAuthenticated
from confide.i18n import N_


class LoginFailed(DomainError):
    """One message for every failure (unknown user, wrong password or code, locked out),
    so that nobody can learn which accounts exist."""

    code = "login_failed"
    status = 400
    message = N_(
        "Login failed: check your username, password and 6-digit code, or try again later."
    )


class SessionInvalid(NotAuthenticated):
    code = "session_invalid"
    message = N_("Your session has ended. Please log in again.")


class StaffInvalid(DomainError):
    code = "staff_invalid"
