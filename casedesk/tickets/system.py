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

from .changes import lock_ticket, record_event, ticket_change
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
