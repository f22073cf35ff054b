"""What other parts of Casedesk follow of every finished change to a ticket.

A capability that keeps state beside a ticket (SLA clocks, the service sheet, release
acceptance) registers an observer once, from its app's `ready()`:

    from casedesk.tickets.services import observe_changes
    observe_changes("sla", sla_follow)

Every change that goes through the unit of work (`changes.TicketChange`), the system's own
included, calls each observer in registration order when it finishes, inside the change's
transaction and with the ticket still locked: `observer(change)`, where `change.ticket` is
the saved ticket and `change.events` the history entries this change recorded, in order.
An observer that raises rolls the whole change back, so it must refuse only what the change
itself must not do. Observers may make further moves through `change` only before
`finish()`; here they keep their own rows in step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .changes import TicketChange

Observer = Callable[["TicketChange"], None]

_observers: dict[str, Observer] = {}


def observe_changes(name: str, observer: Observer) -> None:
    """Register (or, under the same name, replace) an observer of finished changes."""
    _observers[name] = observer


def forget_observer(name: str) -> None:
    _observers.pop(name, None)


def notify(change: TicketChange) -> None:
    for observer in list(_observers.values()):
        observer(change)
