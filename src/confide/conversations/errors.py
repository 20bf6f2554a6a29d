from __future__ import annotations

from confide.errors import DomainError, NotAuthenticated, NotFound
from confide.i18n import N_


class ConversationInvalid(DomainError):
    code = "conversation_invalid"
    status = 422
    message = N_("Please choose a chat and say whether you are a victim or a witness.")


class PostcodeInvalid(DomainError):
    code = "postcode_invalid"
    status = 422
    message = N_(
        "Please enter a postal code of 5 digits, for example 75011. An approximate code is fine."
    )


class TokenInvalid(NotAuthenticated):
    code = "token_invalid"
    message = N_("This conversation cannot be found. It may have been erased or closed.")


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message = N_("This conversation cannot be found.")


class ConversationClosed(DomainError):
    code = "conversation_closed"
    status = 409
    message = N_("This conversation is closed.")


class AlreadyTaken(DomainError):
    code = "already_taken"
    status = 409
    message = N_("Another colleague has already taken this conversation.")


class MessageEmpty(DomainError):
    code = "message_empty"
    status = 422
    message = N_("The message is empty.")


class MessageTooLong(DomainError):
    code = "message_too_long"
    status = 422
    message = N_(
        "This message is too long: please split it into several messages (4,000 characters at most)."
    )


class ClientIdInvalid(DomainError):
    code = "bad_frame"
    status = 422
    message = N_("The message could not be read. Please try again.")


class ConversationUnreadable(DomainError):
    """The conversation's data key cannot be unwrapped: its master key version is missing
    from the secrets file, or the stored key was damaged. Nothing of it can be shown."""

    code = "conversation_unreadable"
    status = 500
    message = N_("This conversation cannot be read at the moment. Please tell the technical team.")
