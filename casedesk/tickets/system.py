"""Changes nobody typed: the system's own transitions and the workflow's reactions to
events from outside a ticket (a release deployed, an SLA target near or passed).

They are services like the others, on the same unit of work, so a move the system makes
is locked, decided by the engine, recorded and timed exactly as a person's move is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from casedesk.common import clock
from casedesk.workflow import SYSTEM_ACTOR

from .batch import TicketBatch
from .changes import TicketChange, claim_ticket, lock_ticket, record_event, ticket_change
from .models import Ticket

# What the system may note in a ticket's history without changing the ticket.
NEWS = {"sla_warning", "sla_breached", "sheet_invoiced"}


def ticket_system_transition(
    *, ticket_id: int, transition: str, cause: dict, expected_version: int | None = None
) -> Ticket:
    """The system makes `transition` (refused with TransitionRefused when the workflow does
    not grant it to the system from where the ticket is)."""
    with ticket_change(
        user=None, ticket_id=ticket_id, expected_version=expected_version, channel="system"
    ) as change:
        change.move(transition, cause=cause)
    return change.ticket


def ticket_fire_event(
    *,
    ticket_id: int,
    event: str,
    environment: str | None = None,
    cause: dict | None = None,
    applies: Callable[[Ticket], bool] | None = None,
) -> str | None:
    """Let the workflow react to `event` on one ticket, in its own transaction; returns the
    transition the system made, if any. `applies` is asked again under the ticket's lock,
    so a ticket that changed since it was listed is left alone."""
    with ticket_change(
        user=None, ticket_id=ticket_id, expected_version=None, channel="system"
    ) as change:
        if applies is not None and not applies(change.ticket):
            return None
        return change.fire(event, environment=environment, cause=cause)


def ticket_system_event(
    *,
    ticket_id: int,
    event: str,
    prepare: Callable[[Ticket], dict | None],
    now: datetime | None = None,
    batch: TicketBatch | None = None,
) -> bool:
    """The worker's reaction to news from beside a ticket (an SLA warning or breach), in
    the caller's transaction, with the ticket read and locked once: SKIP LOCKED (False
    when another worker or a person holds it; the next sweep looks again); then
    `prepare(ticket)`, under the lock, keeps the caller's own rows in step and returns the
    cause, or None to leave the ticket alone (False); then the workflow reacts to `event`
    (a transition or a flag, recorded and saved like any change), and where it makes no
    move, the event is noted in the history as news too. True when it fired.
    `batch`: the worker's batch (`ticket_batch`) the ticket was claimed with."""
    if event not in NEWS:
        raise ValueError(f"not news the system records: {event}")
    ticket = batch.ticket(ticket_id) if batch is not None else claim_ticket(ticket_id)
    if ticket is None:
        return False
    cause = prepare(ticket)
    if cause is None:
        return False
    now = now or clock.now()
    change = TicketChange(ticket, user=None, who=SYSTEM_ACTOR, channel="system", now=now)
    change.batch = batch
    moved = change.fire(event, cause=cause)
    if change.changed:  # a move, or a flag the workflow raises without one
        change.finish()
    if moved is None:
        record_event(
            ticket, actor=SYSTEM_ACTOR, kind=event, channel="system", now=now, public=False, **cause
        )
    return True


def ticket_record_news(
    *, ticket_id: int, kind: str, data: dict, now: datetime | None = None
) -> None:
    """Note an event the workflow did not react to (an SLA warning or breach) in the
    ticket's history, for staff and for webhooks. The ticket's version stays: news is
    not a change anyone could overwrite."""
    if kind not in NEWS:
        raise ValueError(f"not news the system records: {kind}")
    with transaction.atomic():
        ticket = lock_ticket(None, ticket_id, None)
        record_event(
            ticket,
            actor=SYSTEM_ACTOR,
            kind=kind,
            channel="system",
            now=now or clock.now(),
            public=False,
            **data,
        )
