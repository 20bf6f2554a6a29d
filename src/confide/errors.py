"""Base of every domain error.

Each domain raises its own subclasses; `web.errors` maps them to HTTP responses and socket
`error` frames with a stable ``code`` and a message in the user's language.
"""

from __future__ import annotations

from confide.i18n import N_


class DomainError(Exception):
    #: Stable machine-readable code, sent to clients.
    code: str = "error"
    #: HTTP status when raised under an HTTP route.
    status: int = 400
    #: English message id, translated at the boundary.
    message: str = N_("Something went wrong.")

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = N_("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    message = N_("You are not allowed to do this.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    message = N_("Please log in.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = N_("Too many requests, please slow down a little.")


class ServiceUnavailable(DomainError):
    """The database cannot be reached for a moment. Nothing the client sent is lost: it keeps
    its unacknowledged messages and sends them again (resends are idempotent)."""

    code = "unavailable"
    status = 503
    message = N_(
        "The service is briefly unavailable. Your messages are kept and will be sent again."
    )
