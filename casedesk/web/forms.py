"""Reading what people typed into ticket forms, the same way on both sides."""

from __future__ import annotations

from django.http import HttpRequest

from casedesk.tickets.attachments import Upload

FIELD = "field:"


def version_of(request: HttpRequest) -> int | None:
    """The ticket version the form was drawn from (for StaleTicket); None if absent."""
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


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
