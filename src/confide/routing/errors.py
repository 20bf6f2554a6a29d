from __future__ import annotations

from confide.errors import DomainError, NotFound
from confide.i18n import N_


class TeamInvalid(DomainError):
    code = "team_invalid"
    status = 422
    message = N_("Please check the team: name, kind, chats and départements.")


class TeamNotFound(NotFound):
    code = "team_not_found"
    message = N_("This team does not exist.")


class StaffNotFound(NotFound):
    code = "staff_not_found"
    message = N_("This staff member does not exist.")


class AtCapacity(DomainError):
    code = "at_capacity"
    status = 409
    message = N_("You already have as many conversations as your capacity allows.")


class TargetUnavailable(DomainError):
    code = "transfer_target_unavailable"
    status = 409
    message = N_("This colleague cannot take another conversation now.")


class TransferInvalid(DomainError):
    code = "transfer_invalid"
    status = 422
    message = N_("Choose one colleague, one team or the psychologists to transfer to.")


class AvailabilityInvalid(DomainError):
    code = "availability_invalid"
    status = 422
    message = N_("Unknown availability.")


class ScheduleInvalid(DomainError):
    code = "schedule_invalid"
    status = 422
    message = N_("Each slot needs a day and a start before its end, as HH:MM.")


class CapacityInvalid(DomainError):
    code = "capacity_invalid"
    status = 422
    message = N_("The capacity is a number of simultaneous chats between 1 and 20.")
