"""Warnings and breaches, fired by the worker at their time, once per clock and threshold.

Each `TicketClock` row is a durable job twice over: its `fire_at` (the breach) and its
`warn_fire_at` (the warning) are indexed due times, so a sweep reads only the clocks that
are due. Firing takes the ticket's row lock with SKIP LOCKED (another worker or a person
has it: the next sweep looks again), then the clock's, re-reads it and fires only if it is
still due and not fired; marking it fired and the workflow's reaction to the event
(`tickets.services.ticket_fire_event`: `assu` escalates) commit together. A firing that
fails is retried on the jobs' schedule, then held for staff.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q

from casedesk.common import clock
from casedesk.jobs.queue import Queue, jobs_run_due, queue_register, row_claim
from casedesk.tickets.models import Ticket
from casedesk.tickets.services import ticket_fire_event, ticket_record_news

from .clocks import ticket_times_write
from .models import TicketClock, TicketSla


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


def _claim(pk: int, now: datetime, field: str) -> TicketClock | None:
    """The clock, with its ticket and state locked in the one order, if still due."""
    ticket_id = TicketClock.objects.filter(pk=pk).values_list("ticket_id", flat=True).first()
    if ticket_id is None or row_claim(Ticket.objects.filter(pk=ticket_id)) is None:
        return None
    TicketSla.objects.select_for_update().filter(ticket_id=ticket_id).first()
    row = TicketClock.objects.select_for_update().filter(pk=pk).first()
    if row is None or not row.open or row.breach_fired_at is not None:
        return None
    due = getattr(row, field)
    if due is None or due > now:
        return None
    return row


def _cause(row: TicketClock, due: datetime) -> dict:
    return {
        "sla": {
            "target": row.target,
            "cycle": row.cycle,
            "due_at": due.isoformat(),
            **({"reason": row.breach_reason} if row.breach_reason else {}),
        }
    }


def _fire(row: TicketClock, event: str, due: datetime, now: datetime) -> None:
    """The workflow reacts (assu escalates a breach); where it does not, the event is
    noted in the history, so staff and webhooks hear of it either way."""
    cause = _cause(row, due)
    if ticket_fire_event(ticket_id=row.ticket_id, event=event, cause=cause) is None:
        ticket_record_news(ticket_id=row.ticket_id, kind=event, data=cause, now=now)


def sla_breaches_fire(*, now: datetime | None = None, batch: int = 200) -> int:
    now = now or clock.now()

    def fire(pk: int) -> bool:
        row = _claim(pk, now, "fire_at")
        if row is None:
            return False
        due = row.fire_at
        assert due is not None
        row.breach_fired_at, row.fire_at, row.warn_fire_at = now, None, None
        row.save(update_fields=["breach_fired_at", "fire_at", "warn_fire_at"])
        ticket_times_write(Ticket.objects.get(pk=row.ticket_id))
        _fire(row, "sla_breached", due, now)
        return True

    return jobs_run_due(BREACHES, fire, now=now, batch=batch)


def sla_warnings_fire(*, now: datetime | None = None, batch: int = 200) -> int:
    now = now or clock.now()

    def warn(pk: int) -> bool:
        row = _claim(pk, now, "warn_fire_at")
        if row is None or row.warned_at is not None:
            return False
        due = row.warn_fire_at
        assert due is not None
        row.warned_at, row.warn_fire_at = now, None
        row.save(update_fields=["warned_at", "warn_fire_at"])
        _fire(row, "sla_warning", due, now)
        return True

    return jobs_run_due(WARNINGS, warn, now=now, batch=batch)


def sla_fire_due(*, now: datetime | None = None) -> int:
    """The worker's sweep: breaches first (a clock past due gets no warning any more)."""
    return sla_breaches_fire(now=now) + sla_warnings_fire(now=now)
