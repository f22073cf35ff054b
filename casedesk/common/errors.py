"""The errors services raise: a stable dotted code with its parameters, never a sentence.

The words are chosen at the edge, in the reader's language, by one catalogue
(`casedesk.web.messages`); every code is registered in `casedesk.common.codes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.functional import lazy

from .codes import CODES, PLAIN

if TYPE_CHECKING:
    from casedesk.workflow import Denied, Workflow


class Problem:
    """One thing that is wrong: a registered code and the values its sentence names.

    Parameters that are workflow keys (`transition`, `status`, `type`, `priority`, `role`,
    `field`...) stay keys here; the catalogue shows their labels."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, /, **params: Any):
        self.code = code
        self.params: dict[str, Any] = params

    @classmethod
    def of(cls, value: Problem | str) -> Problem:
        """A problem as given, or one for a registered code; anything else is a sentence
        from code not yet converted, kept as it is under the `plain` code."""
        if isinstance(value, Problem):
            return value
        return cls(value) if value in CODES else cls(PLAIN, text=str(value))

    @classmethod
    def denied(cls, refusal: Denied) -> Problem:
        """The engine's refusal (or a field's problem) as a problem."""
        return cls(refusal.code, **refusal.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.code, self.params) == (other.code, other.params)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Problem({self.code!r}{args})"


class CasedeskError(Exception):
    """`kind` is the family (what the API called `code` before codes were dotted)."""

    kind = "error"
    status = 400

    def __init__(self, code: Problem | str, /, *, workflow: Workflow | None = None, **params: Any):
        problem = code if isinstance(code, Problem) else Problem.of(code)
        if params:
            problem = Problem(problem.code, **{**problem.params, **params})
        super().__init__(problem.code)
        self.problem = problem
        self.workflow = workflow  # to show workflow keys by their labels

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def params(self) -> dict[str, Any]:
        return self.problem.params

    def __str__(self) -> str:
        return f"{self.problem.code} {self.problem.params}" if self.problem.params else self.code


class NotFound(CasedeskError):
    """Missing, or not visible to this person: the two must look the same."""

    kind = "not_found"
    status = 404


class Forbidden(CasedeskError):
    """Visible, but this person may not do that."""

    kind = "forbidden"
    status = 403


class TransitionRefused(CasedeskError):
    """The workflow refuses the move; `reason` is the engine's family of refusal (role,
    wrong_status, ticket_type, order, requirement, invalid, unknown_transition)."""

    kind = "transition_refused"

    def __init__(
        self,
        reason: str,
        problem: Problem,
        missing: tuple[str, ...] = (),
        *,
        workflow: Workflow | None = None,
    ):
        super().__init__(problem, workflow=workflow)
        self.reason = reason
        self.missing = missing
        self.status = 403 if reason in ("role", "ticket_type") else 422


def refused(refusal: Denied, workflow: Workflow | None = None) -> TransitionRefused:
    """The error for the engine's refusal, with the workflow its keys are labels in."""
    return TransitionRefused(
        refusal.reason, Problem.denied(refusal), refusal.missing, workflow=workflow
    )


class StaleTicket(CasedeskError):
    """Someone else changed the ticket since the caller read it."""

    kind = "conflict"
    status = 409

    def __init__(self, key: str, expected: int, current: int):
        super().__init__(Problem("ticket.stale", key=key, expected=expected, current=current))
        self.expected = expected
        self.current = current


class VersionRequired(CasedeskError):
    """A person's change must say which version of the ticket it was based on."""

    kind = "version_required"
    status = 428

    def __init__(self) -> None:
        super().__init__(Problem("ticket.version_required"))


class InvalidInput(CasedeskError):
    """Bad input; `errors` maps each field to what is wrong with it."""

    kind = "invalid"
    status = 422

    def __init__(self, errors: Mapping[str, Problem | str], *, workflow: Workflow | None = None):
        super().__init__(Problem("input.invalid"), workflow=workflow)
        self.errors: dict[str, Problem] = {k: Problem.of(v) for k, v in errors.items()}


# -- model and field checks ------------------------------------------------------------
# Django's model checks (`clean()`, field validators) speak through ValidationError. They
# give it a registered code, and the words are asked of the catalogue when the error is
# shown, in the language active then: the catalogue sits above the models, so it is
# passed in once at start-up (`casedesk.web`'s app config) rather than imported here.

_speaker: Callable[[Problem], str] | None = None


def set_speaker(speaker: Callable[[Problem], str]) -> None:
    """Give the catalogue that turns a problem into a sentence (called once, by web)."""
    global _speaker
    _speaker = speaker


def _spoken(code: str, params: dict[str, Any]) -> str:
    problem = Problem(code, **params)
    return _speaker(problem) if _speaker is not None else str(CasedeskError(problem))


_lazy_spoken = lazy(_spoken, str)


def invalid(code: str, /, **params: Any) -> ValidationError:
    """A ValidationError for a registered code: `.code` is the code, `.problem` the whole
    problem, and its message is the catalogue's sentence in the language of whoever reads
    it (a form in the admin, the page that shows it)."""
    error = ValidationError(_lazy_spoken(code, params), code=code)
    error.problem = Problem(code, **params)  # type: ignore[attr-defined]
    return error
