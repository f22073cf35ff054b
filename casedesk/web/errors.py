"""Errors from the services, said in plain words next to the right field."""

from __future__ import annotations

import re
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


@dataclass
class Problem:
    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    stale: bool = False


def _field_message(text: str) -> str:
    """The services speak English; the common messages are said in the viewer's language."""
    if text == "this cannot be empty":
        return _("Please fill this in.")
    if match := re.fullmatch(r"at most (\d+) characters", text):
        return _("This is too long: at most %(n)s characters.") % {"n": match.group(1)}
    if match := re.search(r"larger than the limit of (\d+) MB", text):
        return _("This file is larger than the limit of %(n)s MB.") % {"n": match.group(1)}
    if "are not accepted" in text:
        name = text.split(":", 1)[0]
        return _("%(name)s: files of this type are not accepted.") % {"name": name}
    if "does not match its" in text or "must be text" in text:
        name = text.split(":", 1)[0]
        return _("%(name)s: the file's content does not match its type.") % {"name": name}
    if text == "confirm this step first":
        return _("Please tick the box to confirm this step.")
    if match := re.fullmatch(r"at most (\d+) files at once", text):
        return _("At most %(n)s files at once.") % {"n": match.group(1)}
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def problem_of(exc: CasedeskError) -> Problem:
    """How a refused change is shown; NotFound becomes the plain 404 page."""
    if isinstance(exc, NotFound):
        raise Http404 from None
    if isinstance(exc, StaleTicket):
        return Problem(
            409,
            _(
                "Someone else changed this ticket while you were working on it, so nothing "
                "was saved. The page now shows the ticket as it is; what you typed is still "
                "in the form. Check the change, then send it again if it still applies."
            ),
            stale=True,
        )
    if isinstance(exc, InvalidInput):
        fields = {}
        for name, text in exc.errors.items():
            key = "attachments" if name.startswith("attachments") else name
            fields[key] = _field_message(str(text))
        return Problem(422, _("Please correct the marked fields."), fields)
    if isinstance(exc, TransitionRefused):
        if exc.reason == "requirement":
            fields = {}
            for need in exc.missing:
                key = need.replace("field:", "fields.")
                fields[key] = _("Please fill this in.")
            return Problem(422, _("This step needs a little more from you."), fields)
        if exc.reason in ("wrong_status", "unknown_transition", "order"):
            return Problem(
                409,
                _(
                    "This step is not possible any more: the ticket has moved on. The page "
                    "shows what you can do now."
                ),
                stale=True,
            )
        if exc.reason == "invalid":
            # a field's value: "<field>: what is wrong with it" (engine.field_problem)
            match = re.fullmatch(r"(\w+): (.+)", exc.message)
            if match:
                text = _field_message(match.group(2))
                return Problem(
                    422, _("Please correct the marked fields."), {f"fields.{match.group(1)}": text}
                )
            return Problem(422, exc.message[:1].upper() + exc.message[1:])
        return Problem(403, _("You may not take this step on this ticket."))
    if isinstance(exc, Forbidden):
        return Problem(403, _("You do not have permission to do that."))
    if isinstance(exc, VersionRequired):
        return Problem(
            428,
            _(
                "This form did not say which version of the ticket it was made from. Reload "
                "the page and try again."
            ),
            stale=True,
        )
    return Problem(exc.status, exc.message)
