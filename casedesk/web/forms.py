"""Reading what people typed into ticket forms, the same way on both sides."""

from __future__ import annotations

from django.http import HttpRequest

from casedesk.common.errors import VersionRequired

FIELD = "field:"


def version_of(request: HttpRequest, name: str = "version") -> int:
    """The ticket version the form was drawn from (for StaleTicket). Every change a person
    makes names one: a form without it, or with anything but a version, is refused."""
    value = request.POST.get(name, "")
    if not (value.isdigit() and 0 < int(value) < 2**31):
        raise VersionRequired
    return int(value)


def fields_of(request: HttpRequest) -> dict[str, str]:
    """Custom field values posted as `field:<name>`; empty ones are left out."""
    return {
        key[len(FIELD) :]: value.strip()
        for key, value in request.POST.items()
        if key.startswith(FIELD) and value.strip()
    }


def typed(request: HttpRequest) -> dict[str, str]:
    """What the person typed, to put back into the form when a change is refused."""
    return {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
