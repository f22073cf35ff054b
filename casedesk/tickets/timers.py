"""Firing due timers.

Each ticket has at most one TicketTimer row: its next automatic move, set again in the
same transaction as every change to the ticket. Finding due work reads only the due rows
through the `due_at` index, so a sweep costs what is due, not what exists.

Timers are durable jobs (casedesk.jobs.queue) done under a row lock: several workers may
sweep at once; a worker takes the ticket's row lock with SKIP LOCKED (PostgreSQL), so two
workers never act on one ticket together, then re-reads the timer under that lock and fires
only if it is still due and was set for the ticket's current version. Firing replaces the
row, so a timer fires at most once. A firing that fails (not a refusal by the workflow,
an error) is counted and tried again on the jobs' schedule, then held for staff, without
holding up the timers due after it.

The worker fires up to `many` due timers in one transaction (`tickets/batch.py`): their
tickets claimed in one read, their timer rows in another, their writes sent together.
Each timer is decided exactly as alone; a batch that fails is rolled back and its timers
fired one by one, so the one that fails is counted alone. The warnings before a timer
acts are written in batches the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Q

from casedesk.common import clock
from casedesk.common.errors import TransitionRefused
from casedesk.common.rows import update_row
from casedesk.jobs.queue import Queue, jobs_run_due, queue_register
from casedesk.workflow import SYSTEM_ACTOR

from .batch import ticket_batch
from .changes import (
    TicketChange,
    claim_ticket,
    record_event,
    reset_timer,
    timer_of,
    timers_of,
)
from .models import Ticket, TicketTimer

log = logging.getLogger("casedesk.timers")


QUEUE = queue_register(
    Queue(
        name="timers",
        model=TicketTimer,
        due="due_at",
        ready=Q(held_at__isnull=True),
        hold_clears_due=False,
        max_attempts=lambda: settings.CASEDESK_TIMER_MAX_ATTEMPTS,
    )
)
# The same rows, seen by their warning time.
WARNINGS = Queue(
    name="timer warnings",
    model=TicketTimer,
    due="warn_at",
    ready=Q(held_at__isnull=True, warned_at__isnull=True),
    hold_clears_due=False,
    max_attempts=lambda: settings.CASEDESK_TIMER_MAX_ATTEMPTS,
)


def _claim(ticket_id: int) -> Ticket | None:
    """Lock the ticket for this transaction, or None when another worker or a person
    holds it; the next sweep looks again."""
    return claim_ticket(ticket_id)


def _fire(ticket: Ticket | None, timer: TicketTimer | None, now: datetime, batch=None) -> bool:
    """Fire the ticket's timer, read under the ticket's lock, if it is still due."""
    if ticket is None or timer is None or timer.due_at > now:
        return False
    if timer.ticket_version != ticket.version:
        # Written for an older state of the ticket; set it again for the current one.
        reset_timer(ticket, row=timer)
        return False
    change = TicketChange(ticket, user=None, who=SYSTEM_ACTOR, channel="system", now=now)
    change.timer, change.batch = timer, batch
    try:
        change.move(
            timer.transition, cause={"timer": timer.timer, "due_at": timer.due_at.isoformat()}
        )
    except TransitionRefused as exc:
        log.warning("timer %s on %s refused: %s", timer.timer, ticket.key, exc)
        timer.delete()
        return False
    change.finish()
    return True


def timers_fire_due(*, now: datetime | None = None, batch: int = 200, many: int = 50) -> int:
    """Fire every timer due at `now`; returns how many fired. Up to `many` due timers
    fire together in one transaction (tickets/batch.py); 1 fires them one by one."""
    now = now or clock.now()

    def fire(ticket_id: int) -> bool:
        ticket = _claim(ticket_id)
        return _fire(ticket, timer_of(ticket_id) if ticket else None, now)

    def fire_many(rows: list[tuple[Any, ...]]) -> set[Any]:
        fired = set()
        with ticket_batch(ticket_id for (ticket_id,) in rows) as tickets:
            for (ticket_id,) in rows:
                ticket = tickets.ticket(ticket_id)
                timer = None
                if ticket is not None:
                    timer = tickets.take(
                        "timer", ticket_id, timers_of, partial(timer_of, ticket_id)
                    )
                if _fire(ticket, timer, now, tickets):
                    fired.add(ticket_id)
        return fired

    return jobs_run_due(
        QUEUE, fire, now=now, batch=batch, act_many=fire_many if many > 1 else None, many=many
    )


def _warn(ticket: Ticket | None, timer: TicketTimer | None, now: datetime) -> bool:
    """Write the timer's warning, read under the ticket's lock, if it is still due."""
    if (
        ticket is None
        or timer is None
        or timer.warned_at is not None
        or timer.warn_at is None
        or timer.warn_at > now
        or timer.due_at <= now
        or timer.ticket_version != ticket.version
    ):
        return False
    record_event(
        ticket,
        actor=SYSTEM_ACTOR,
        kind="timer_warning",
        channel="system",
        now=now,
        timer=timer.timer,
        transition=timer.transition,
        due_at=timer.due_at.isoformat(),
    )
    timer.warned_at = now
    update_row(timer, ("warned_at",))
    return True


def timers_warn_due(*, now: datetime | None = None, batch: int = 200, many: int = 50) -> int:
    """Write a public `timer_warning` history entry for every timer whose warning is due
    (once per timer and due time; a timer that is already due gets none). The ticket's
    version does not change: a warning is news, not a change someone could overwrite.
    Up to `many` warnings are written together in one transaction, as timers fire
    (tickets/batch.py); 1 writes them one by one."""
    now = now or clock.now()

    def warn(ticket_id: int) -> bool:
        ticket = _claim(ticket_id)
        return _warn(ticket, timer_of(ticket_id) if ticket else None, now)

    def warn_many(rows: list[tuple[Any, ...]]) -> set[Any]:
        warned = set()
        with ticket_batch(ticket_id for (ticket_id,) in rows) as tickets:
            for (ticket_id,) in rows:
                ticket = tickets.ticket(ticket_id)
                timer = None
                if ticket is not None:
                    timer = tickets.take(
                        "timer", ticket_id, timers_of, partial(timer_of, ticket_id)
                    )
                if _warn(ticket, timer, now):
                    warned.add(ticket_id)
        return warned

    return jobs_run_due(
        WARNINGS,
        warn,
        now=now,
        batch=batch,
        where=Q(due_at__gt=now),
        act_many=warn_many if many > 1 else None,
        many=many,
    )
