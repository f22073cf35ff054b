"""Many tickets claimed at once, for the worker's batches of due timers and clocks.

Firing a due timer or clock one by one costs a handful of statements per item: claim the
ticket, read its timer or clock, write the history entry, its outbox items, the ticket,
the timer. `ticket_batch` claims all the tickets of a batch in one read (SKIP LOCKED on
PostgreSQL, in key order, so two workers never wait on each other in a circle), reads
what lies beside them once for the whole batch when it is first asked for (`take`), and
keeps the batch's writes back to send them together (`common/writes.py`). Each item is
still fired by the same code as alone, on a ticket locked for it, so what it leaves
behind is the same; the batch changes how many statements carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from casedesk.common.writes import kept_back

from .changes import _for_change, claim_ticket
from .models import Ticket


class TicketBatch:
    def __init__(self, tickets: dict[int, Ticket]):
        self._tickets = tickets
        self._given: set[int] = set()
        self._loaded: dict[str, dict[int, Any]] = {}
        self._left: dict[str, set[int]] = {}

    def ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket, locked for this transaction, or None when another worker or a
        person holds it. Asked again for a ticket it gave (two clocks of one ticket due
        together), it reads the ticket again, as the item would alone."""
        if ticket_id in self._given:
            return claim_ticket(ticket_id)
        self._given.add(ticket_id)
        return self._tickets.get(ticket_id)

    def take(
        self,
        name: str,
        ticket_id: int,
        load: Callable[[list[int]], dict[int, Any]],
        read: Callable[[], Any],
    ) -> Any:
        """What lies beside the ticket (its timer, its SLA state...), read under the
        tickets' locks for the whole batch by `load(ticket_ids)` when first asked for.
        Each ticket's is given once: asked again (its item may have written it since),
        `read()` reads it afresh."""
        left = self._left.get(name)
        if left is None:
            self._loaded[name] = load(sorted(self._tickets))
            left = self._left[name] = set(self._tickets)
        if ticket_id not in left:
            return read()
        left.discard(ticket_id)
        return self._loaded[name].get(ticket_id)


@contextmanager
def ticket_batch(ticket_ids: Iterable[int]) -> Iterator[TicketBatch]:
    """Claim the tickets (those another worker or a person holds are left out) for this
    transaction and keep the block's writes back until its end."""
    connection = transaction.get_connection()
    assert connection.in_atomic_block, "ticket_batch needs a transaction"
    ids = sorted(set(ticket_ids))
    tickets = {
        t.pk: t
        for t in _for_change(Ticket.objects.all())
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    }
    with kept_back(connection.alias):
        yield TicketBatch(tickets)
