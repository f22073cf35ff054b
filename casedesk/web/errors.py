"""Errors from the services, said in the reader's language next to the right field.

The words come from the one catalogue (`messages.say`); nothing here reads a sentence."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404
from django.utils.translation import gettext as _

from casedesk.common.errors import (
    CasedeskError,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleTicket,
    TransitionRefused,
    VersionRequired,
)

from .messages import say


@dataclass
class Refusal:
    """What a page shows about a refused change: a notice, and a text per form field."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    stale: bool = False


def _form_key(name: str) -> str:
    return "attachments" if name.startswith("attachments") else name


def problem_of(exc: CasedeskError) -> Refusal:
    """How a refused change is shown; NotFound becomes the plain 404 page."""
    if isinstance(exc, NotFound):
        raise Http404 from None
    if isinstance(exc, StaleTicket):
        return Refusal(
            409,
            _(
                "Someone else changed this ticket while you were working on it, so nothing "
                "was saved. The page now shows the ticket as it is; what you typed is still "
                "in the form. Check the change, then send it again if it still applies."
            ),
            stale=True,
        )
    if isinstance(exc, InvalidInput):
        fields = {_form_key(name): say(p, workflow=exc.workflow) for name, p in exc.errors.items()}
        return Refusal(422, say(exc), fields)
    if isinstance(exc, TransitionRefused):
        if exc.reason == "requirement":
            fields = {
                need.replace("field:", "fields."): _("Please fill this in.") for need in exc.missing
            }
            return Refusal(422, _("This step needs a little more from you."), fields)
        if exc.reason in ("wrong_status", "unknown_transition", "order"):
            return Refusal(
                409,
                _(
                    "This step is not possible any more: the ticket has moved on. The page "
                    "shows what you can do now."
                ),
                stale=True,
            )
        if exc.reason == "invalid":
            text = say(exc)
            name = exc.params.get("field")
            if isinstance(name, str) and exc.code != "field.unknown":
                return Refusal(
                    422, _("Please correct the marked fields."), {f"fields.{name}": text}
                )
            return Refusal(422, text)
        return Refusal(403, say(exc))  # the role or the ticket type: say which step, for whom
    if isinstance(exc, Forbidden):
        return Refusal(403, _("You do not have permission to do that."))
    if isinstance(exc, VersionRequired):
        return Refusal(
            428,
            _(
                "This form did not say which version of the ticket it was made from. Reload "
                "the page and try again."
            ),
            stale=True,
        )
    return Refusal(exc.status, say(exc))
