"""Firing due timers.

Each ticket has at most one TicketTimer row: its next automatic move, set again in the
same transaction as every change to the ticket. Finding due work reads only the due rows
through the `due_at` index, so a sweep costs what is due, not what exists.

Several workers may sweep at once. A worker takes the ticket's row lock with SKIP LOCKED
(PostgreSQL), so two workers never act on one ticket together, then re-reads the timer
under that lock and fires only if it is still due and was set for the ticket's current
version. Firing replaces the row, so a timer fires at most once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import TransitionRefused
from casedesk.workflow import SYSTEM_ACTOR, Given

from .bridge import workflow_of
from .changes import finish, move, record, reset_timer
from .models import Ticket, TicketTimer

log = logging.getLogger("casedesk.timers")


def _fire_one(ticket_id: int, now: datetime) -> bool:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_related("workflow", "team")
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:  # another worker or a person holds it; the next sweep looks again
            return False
        timer = TicketTimer.objects.filter(ticket_id=ticket_id).first()
        if timer is None or timer.due_at > now:
            return False
        if timer.ticket_version != ticket.version:
            # Written for an older state of the ticket; set it again for the current one.
            reset_timer(ticket, workflow_of(ticket))
            return False
        try:
            move(
                ticket,
                actor=SYSTEM_ACTOR,
                transition=timer.transition,
                given=Given(),
                channel="system",
                now=now,
                cause={"timer": timer.timer, "due_at": timer.due_at.isoformat()},
            )
        except TransitionRefused as exc:
            log.warning("timer %s on %s refused: %s", timer.timer, ticket.key, exc.message)
            timer.delete()
            return False
        finish(ticket, now)
        return True


def timers_fire_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Fire every timer due at `now`; returns how many fired."""
    now = now or clock.now()
    fired = 0
    skipped: set[int] = set()
    while True:
        due = list(
            TicketTimer.objects.filter(due_at__lte=now)
            .exclude(ticket_id__in=skipped)
            .order_by("due_at")
            .values_list("ticket_id", flat=True)[:batch]
        )
        if not due:
            return fired
        for ticket_id in due:
            if _fire_one(ticket_id, now):
                fired += 1
            elif TicketTimer.objects.filter(ticket_id=ticket_id, due_at__lte=now).exists():
                skipped.add(ticket_id)  # locked elsewhere: leave it to the next sweep


def _warn_one(ticket_id: int, now: datetime) -> bool:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_related("workflow", "team")
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            return False
        timer = TicketTimer.objects.filter(ticket_id=ticket_id).first()
        if (
            timer is None
            or timer.warned_at is not None
            or timer.warn_at is None
            or timer.warn_at > now
            or timer.due_at <= now
            or timer.ticket_version != ticket.version
        ):
            return False
        record(
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
        timer.save(update_fields=["warned_at"])
        return True


def timers_warn_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Write a public `timer_warning` history entry for every timer whose warning is due
    (once per timer and due time; a timer that is already due gets none). The ticket's
    version does not change: a warning is news, not a change someone could overwrite."""
    now = now or clock.now()
    warned = 0
    skipped: set[int] = set()
    while True:
        due = list(
            TicketTimer.objects.filter(warn_at__lte=now, warned_at__isnull=True, due_at__gt=now)
            .exclude(ticket_id__in=skipped)
            .order_by("warn_at")
            .values_list("ticket_id", flat=True)[:batch]
        )
        if not due:
            return warned
        for ticket_id in due:
            if _warn_one(ticket_id, now):
                warned += 1
            else:
                skipped.add(ticket_id)
