"""Errors of the casework domain (notes, flags, closing qualification, transcript)."""

from __future__ import annotations

from confide.errors import DomainError
from confide.i18n import N_


class NoteInvalid(DomainError):
    code = "note_invalid"
    status = 422
    message = N_("The note is empty.")


class NoteTooLong(DomainError):
    code = "note_too_long"
    status = 422
    message = N_("The note is too long (2,000 characters at most).")


class FlagInvalid(DomainError):
    code = "flag_invalid"
    status = 422
    message = N_("Unknown flag.")


class QualificationInvalid(DomainError):
    """The closing form is incomplete or wrong: nothing is closed. The message names what
    is missing."""

    code = "qualification_invalid"
    status = 422
    message = N_(
        "Please complete the closing form: confirm the chat type, say whether an offence is suspected and tick at least one outcome."
    )


#: One message per missing part, when only one is missing.
CHANNEL_MISSING = N_("Please confirm the chat type before closing.")
OFFENCE_MISSING = N_("Please say whether an offence is suspected before closing.")
OUTCOMES_MISSING = N_("Please tick at least one outcome before closing.")
