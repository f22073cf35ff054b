"""Warnings and breaches, fired by the worker at their time, once per clock and threshold.

Each `TicketClock` row is a durable job twice over: its `fire_at` (the breach) and its
`warn_fire_at` (the warning) are indexed due times, so a sweep reads only the clocks that
are due. Firing takes the ticket's row lock with SKIP LOCKED (another worker or a person
has it: the next sweep looks again), re-reads the clock under that lock and fires only if
it is still due and not fired; marking it fired and the workflow's reaction to the event
(`tickets.services.ticket_system_event`: `assu` escalates, the others note it) commit
together, with the ticket read and locked once. A firing that
fails is retried on the jobs' schedule, then held for staff.

Up to `many` due clocks fire in one transaction (`tickets.services.ticket_batch`): their
tickets claimed in one read, their open clocks in another, their writes sent together; a
batch that fails is rolled back and its clocks fired one by one.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from casedesk.common import clock
from casedesk.common.rows import Prepared, update_row
from casedesk.jobs.queue import Queue, jobs_run_due, queue_register
from casedesk.tickets.models import Ticket
from casedesk.tickets.services import TicketBatch, ticket_batch, ticket_system_event

from .clocks import ticket_times_write
from .models import TicketClock


def _attempts() -> int:
    return int(getattr(settings, "CASEDESK_TIMER_MAX_ATTEMPTS", 5))


BREACHES = queue_register(
    Queue(
        name="sla breaches",
        model=TicketClock,
        due="fire_at",
        ready=Q(held_at__isnull=True),
        max_attempts=_attempts,
    )
)
WARNINGS = Queue(
    name="sla warnings",
    model=TicketClock,
    due="warn_fire_at",
    ready=Q(held_at__isnull=True),
    max_attempts=_attempts,
)


# A ticket's clock rows are written only under its ticket's lock (the changes that step
# them, a re-plan, a rebuild and this firing all hold it first), so once the ticket is
# claimed they can be read without locks of their own. Read once, the ticket's open clocks
# give both the one to fire and the times the ticket keeps for its queues.
_open_clocks = Prepared(
    lambda ticket_id: TicketClock.objects.filter(
        ticket_id=ticket_id, met_at=None, stopped_at=None
    ).order_by()
)


def _open_clocks_of(ticket_ids: list[int]) -> dict[int, list[TicketClock]]:
    """`_open_clocks` for a whole batch of tickets, by ticket."""
    found: dict[int, list[TicketClock]] = {}
    for row in TicketClock.objects.filter(
        ticket_id__in=ticket_ids, met_at=None, stopped_at=None
    ).order_by():
        found.setdefault(row.ticket_id, []).append(row)
    return found


def _due_clock(ticket: Ticket, pk: int, now: datetime, field: str, batch: TicketBatch | None):
    """The ticket's open clocks, read under its lock, and among them clock `pk` if it is
    still due and its breach not fired (else None)."""
    alias = transaction.get_connection().alias
    if batch is None:
        rows = _open_clocks(ticket.pk, using=alias)
    else:
        rows = (
            batch.take(
                "sla open clocks",
                ticket.pk,
                _open_clocks_of,
                lambda: _open_clocks(ticket.pk, using=alias),
            )
            or []
        )
    row = next((r for r in rows if r.pk == pk), None)
    if row is None or row.breach_fired_at is not None:
        return rows, None
    due = getattr(row, field)
    if due is None or due > now:
        return rows, None
    return rows, row


def _cause(row: TicketClock, due: datetime) -> dict:
    return {
        "sla": {
            "target": row.target,
            "cycle": row.cycle,
            "due_at": due.isoformat(),
            **({"reason": row.breach_reason} if row.breach_reason else {}),
        }
    }


def _run(queue: Queue, event: str, prepare, now: datetime, batch: int, many: int) -> int:
    """Fire the due clocks of `queue`: `prepare(pk, ticket, batch=...)` marks clock `pk`
    fired under its ticket's lock and gives the cause (or None: not due any more)."""

    def fire(pk: int, ticket_id: int) -> bool:
        return ticket_system_event(
            ticket_id=ticket_id, event=event, prepare=partial(prepare, pk, batch=None), now=now
        )

    def fire_many(rows: list[tuple[Any, ...]]) -> set[Any]:
        fired = set()
        with ticket_batch(ticket_id for _pk, ticket_id in rows) as tickets:
            for pk, ticket_id in rows:
                if ticket_system_event(
                    ticket_id=ticket_id,
                    event=event,
                    prepare=partial(prepare, pk, batch=tickets),
                    now=now,
                    batch=tickets,
                ):
                    fired.add(pk)
        return fired

    return jobs_run_due(
        queue,
        fire,
        now=now,
        batch=batch,
        carry=("ticket_id",),
        act_many=fire_many if many > 1 else None,
        many=many,
    )


def sla_breaches_fire(*, now: datetime | None = None, batch: int = 200, many: int = 50) -> int:
    """Fire every breach due at `now`, up to `many` together (1: one by one)."""
    now = now or clock.now()

    def prepare(pk: int, ticket: Ticket, batch: TicketBatch | None) -> dict | None:
        rows, row = _due_clock(ticket, pk, now, "fire_at", batch)
        if row is None:
            return None
        due = row.fire_at
        assert due is not None
        row.breach_fired_at, row.fire_at, row.warn_fire_at = now, None, None
        update_row(row, ("breach_fired_at", "fire_at", "warn_fire_at"))
        ticket_times_write(ticket, rows)
        return _cause(row, due)

    # The workflow reacts (assu escalates a breach); where it does not, the event is
    # noted in the history, so staff and webhooks hear of it either way.
    return _run(BREACHES, "sla_breached", prepare, now, batch, many)


def sla_warnings_fire(*, now: datetime | None = None, batch: int = 200, many: int = 50) -> int:
    now = now or clock.now()

    def prepare(pk: int, ticket: Ticket, batch: TicketBatch | None) -> dict | None:
        _rows, row = _due_clock(ticket, pk, now, "warn_fire_at", batch)
        if row is None or row.warned_at is not None:
            return None
        due = row.warn_fire_at
        assert due is not None
        row.warned_at, row.warn_fire_at = now, None
        update_row(row, ("warned_at", "warn_fire_at"))
        return _cause(row, due)

    return _run(WARNINGS, "sla_warning", prepare, now, batch, many)


def sla_fire_due(*, now: datetime | None = None) -> int:
    """The worker's sweep: breaches first (a clock past due gets no warning any more)."""
    return sla_breaches_fire(now=now) + sla_warnings_fire(now=now)
