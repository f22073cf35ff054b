"""Reading what people typed into ticket forms, the same way on both sides."""

from __future__ import annotations

from django.http import HttpRequest

FIELD = "field:"


def version_of(request: HttpRequest) -> int | None:
    """The ticket version the form was drawn from (for StaleTicket); None if absent."""
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


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
