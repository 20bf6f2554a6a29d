from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class ProsecutorKeyExists(DomainError):
    code = "prosecutor_key_exists"
    status = 409
    message = N_("A prosecution office key already exists: rotate it instead.")


class PassphraseInvalid(DomainError):
    code = "passphrase_invalid"
    status = 422
    message = N_("The passphrase must have at least 12 characters.")


class WrongPassphrase(DomainError):
    code = "wrong_passphrase"
    status = 422
    message = N_("This passphrase does not open the prosecution office key.")


class RequestInvalid(DomainError):
    code = "disclosure_invalid"
    status = 422
    message = N_("Please choose a reason and explain why the person's identity is needed.")


class RequestNotFound(NotFound):
    code = "disclosure_not_found"
    message = N_("This request cannot be found.")


class RequestAlreadyPending(DomainError):
    code = "disclosure_pending"
    status = 409
    message = N_("A request for this conversation is already waiting for a decision.")


class RequestNotPending(DomainError):
    code = "disclosure_decided"
    status = 409
    message = N_("This request has already been decided.")


class RefusalReasonMissing(DomainError):
    code = "refusal_reason_missing"
    status = 422
    message = N_("Please give the reason for the refusal.")


class NothingToOpen(DomainError):
    code = "nothing_sealed"
    status = 409
    message = N_(
        "No connection data was kept for this conversation (no key existed yet, or it was deleted after its retention period)."
    )


class IdentityInvalid(DomainError):
    code = "identity_invalid"
    status = 422
    message = N_("Please fill in at least one field (each one has 200 characters at most).")
