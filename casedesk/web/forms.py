"""Reading what people typed into ticket forms, the same way on both sides."""

from __future__ import annotations

from django.http import HttpRequest

from casedesk.common.errors import InvalidInput, VersionRequired
from casedesk.tickets import selectors
from casedesk.tickets.attachments import Upload

FIELD = "field:"


def version_of(request: HttpRequest, name: str = "version") -> int:
    """The ticket version the form was drawn from (for StaleTicket). Every change a person
    makes names one: a form without it, or with anything but a version, is refused."""
    value = request.POST.get(name, "")
    if not (value.isdigit() and 0 < int(value) < 2**31):
        raise VersionRequired
    return int(value)


CONFIRM_MISSING = "confirm this step first"


def confirmed(request: HttpRequest, ticket, transition: str) -> None:
    """A step that ends the ticket, or that staff take on the customer's behalf, is made
    only once the person ticked the box that says so (`Action.confirm`, from the engine)."""
    step = selectors.next_step_for(user=request.user, ticket=ticket, lang="en")
    actions = [*step.actions, *([step.duplicate] if step.duplicate else [])]
    action = next((a for a in actions if a.key == transition), None)
    if action is not None and action.confirm and request.POST.get("confirm") != "1":
        raise InvalidInput({"confirm": CONFIRM_MISSING})


def fields_of(request: HttpRequest) -> dict[str, str]:
    """Custom field values posted as `field:<name>`; empty ones are left out."""
    values = {
        key[len(FIELD) :]: request.POST.get(key, "").strip()
        for key in request.POST
        if key.startswith(FIELD)
    }
    return {name: value for name, value in values.items() if value}


def typed(request: HttpRequest) -> dict[str, str]:
    """What the person typed, to put back into the form when a change is refused."""
    return {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}


def uploads_of(request: HttpRequest) -> list[Upload]:
    """The files posted as `attachments`."""
    return list(request.FILES.getlist("attachments"))
