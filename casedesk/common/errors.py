"""The errors services raise. Views and the API map each to one response shape."""

from __future__ import annotations


class CasedeskError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **detail: object):
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(CasedeskError):
    """Missing, or not visible to this person: the two must look the same."""

    code = "not_found"
    status = 404


class Forbidden(CasedeskError):
    """Visible, but this person may not do that."""

    code = "forbidden"
    status = 403


class TransitionRefused(CasedeskError):
    """The workflow refuses the move; `reason` is the engine's code (role, wrong_status,
    ticket_type, order, requirement, invalid, unknown_transition; duplicate: a duplicate is
    closed through ticket_mark_duplicate, not as a plain move)."""

    code = "transition_refused"

    def __init__(self, reason: str, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message, reason=reason, missing=list(missing))
        self.reason = reason
        self.missing = missing
        self.status = 403 if reason in ("role", "ticket_type") else 422


class StaleTicket(CasedeskError):
    """Someone else changed the ticket since the caller read it."""

    code = "conflict"
    status = 409

    def __init__(self, key: str, expected: int, current: int):
        super().__init__(
            f"{key} was changed by someone else (you had version {expected}, it is now {current})",
            expected=expected,
            current=current,
        )


class VersionRequired(CasedeskError):
    """A person's change must say which version of the ticket it was based on."""

    code = "version_required"
    status = 428

    def __init__(self) -> None:
        super().__init__(
            "say which version of the ticket this change is based on (reload it and try again)"
        )


class InvalidInput(CasedeskError):
    """Bad input; `errors` maps each field to what is wrong with it."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, str]):
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        super().__init__(message, errors=errors)
        self.errors = errors
