from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class NoPsychologistAvailable(DomainError):
    code = "no_psychologist"
    status = 409
    message = N_(
        "No psychologist is available right now. Stay with the person; you can try again or "
        "use the psychologists' queue."
    )


class HandoffAlreadyPending(DomainError):
    code = "handoff_pending"
    status = 409
    message = N_("A hand-off to a psychologist is already pending for this conversation.")


class HandoffInvalid(DomainError):
    code = "handoff_invalid"
    status = 422
    message = N_("The note is too long (1,000 characters at most).")


class HandoffNotFound(NotFound):
    code = "handoff_not_found"
    message = N_("This hand-off request no longer exists.")


class HandoffTaken(DomainError):
    code = "handoff_taken"
    status = 409
    message = N_("Another psychologist has already accepted this hand-off.")


class HandoffWithdrawn(DomainError):
    code = "handoff_withdrawn"
    status = 409
    message = N_("This hand-off request was cancelled or the conversation has moved on.")


class OutOfScope(DomainError):
    code = "forbidden"
    status = 403
    message = N_("This conversation is not one of your teams'.")
