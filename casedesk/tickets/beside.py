"""Changes to state kept beside a ticket (the service sheet, estimates, quotes), made under
the ticket's lock and recorded in its history, like every other change to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from .changes import ticket_change
from .models import Ticket

R = TypeVar("R")


def ticket_beside_change(
    *,
    actor,
    ticket: Ticket,
    verb: str,
    kind: str,
    write: Callable[[Ticket, datetime], tuple[R, dict]],
    public: bool = True,
    expected_version: int | None = None,
    channel: str = "web",
) -> R:
    """Lock the ticket as `actor` sees it, authorise `verb`, let `write(ticket, now)` keep
    its own rows and say what happened; that becomes a `kind` history entry. One
    transaction: a refusal raised by `write` leaves nothing behind."""
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb=verb,
        channel=channel,
    ) as change:
        result, entry = write(change.ticket, change.now)
        change.record(kind, public=public, **entry)
    return result
