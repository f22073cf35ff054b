"""Changes to state kept beside a ticket (the service sheet, estimates, quotes), made under
the ticket's lock and recorded in its history, like every other change to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


# Effects whose state lives beside the ticket and needs its own inputs: a transition with
# one of them is made only by that state's service, through `ticket_transition(beside=...)`.
BESIDE_EFFECTS = frozenset({"quote"})


@dataclass(frozen=True)
class Beside:
    """What a transition keeps beside the ticket: `write(ticket, now)` keeps its rows after
    the move and says what happened, which becomes a `kind` history entry."""

    kind: str
    write: Callable[[Ticket, datetime], dict]
    public: bool = True
