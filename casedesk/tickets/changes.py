"""The steps every change to a ticket takes, in one place: lock it (as someone who may see
it), check the caller's version, record history, save with a new version and set its
timer again. Services compose these inside one transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from casedesk.common.errors import NotFound, StaleTicket, TransitionRefused
from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Outcome,
    Workflow,
    decide,
    next_timer,
    triggered,
)

from . import outbox
from .bridge import apply_outcome, snapshot, workflow_of
from .models import Ticket, TicketEvent, TicketTimer

security_log = logging.getLogger("casedesk.security")

# An event may set off a transition, whose effects may set off another event; stop there.
MAX_CHAIN = 3


def lock_ticket(user, ticket_id: int, expected_version: int | None) -> Ticket:
    """Lock the ticket row for this transaction, as `user` sees it (None: the system)."""
    assert transaction.get_connection().in_atomic_block, "lock_ticket needs a transaction"
    rows = Ticket.objects if user is None else Ticket.objects.visible_to(user)
    ticket = (
        rows.select_related("desk", "workflow", "team")
        .select_for_update(of=("self",))
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound("no such ticket")
    if expected_version is not None and ticket.version != expected_version:
        raise StaleTicket(ticket.key, expected_version, ticket.version)
    return ticket


def record(
    ticket: Ticket,
    *,
    actor: Actor,
    kind: str,
    channel: str,
    now: datetime,
    public: bool = True,
    **data: object,
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        desk_id=ticket.desk_id,
        at=now,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        channel=channel,
        kind=kind,
        public=public,
        data=data,
    )
    outbox.enqueue(event)
    return event


def finish(ticket: Ticket, now: datetime) -> None:
    """Save a changed ticket under a new version and set its timer for the new state."""
    ticket.version += 1
    ticket.updated_at = now
    ticket.save()
    reset_timer(ticket, workflow_of(ticket))


def reset_timer(ticket: Ticket, wf: Workflow) -> None:
    due = next_timer(wf, snapshot(ticket))
    if due is None:
        TicketTimer.objects.filter(ticket=ticket).delete()
        return
    row = TicketTimer.objects.filter(ticket=ticket).first() or TicketTimer(ticket=ticket)
    if (row.timer, row.due_at) != (due.timer.key, due.due_at):
        row.warned_at = None  # a new timer or due time deserves its own warning
        row.attempts, row.held_at = 0, None  # and its own tries
    row.desk_id = ticket.desk_id
    row.timer, row.transition = due.timer.key, due.timer.transition
    row.due_at, row.warn_at = due.due_at, due.warn_at
    row.ticket_version = ticket.version
    row.save()


def move(
    ticket: Ticket,
    *,
    actor: Actor,
    transition: str,
    given: Given,
    channel: str,
    now: datetime,
    comment_id: int | None = None,
    cause: dict | None = None,
    depth: int = 0,
) -> Outcome:
    """Decide and apply one transition on a locked ticket (without saving it)."""
    wf = workflow_of(ticket)
    outcome = decide(wf, snapshot(ticket), actor, transition, given, now)
    if isinstance(outcome, Denied):
        security_log.warning(
            "transition.denied ticket=%s transition=%s actor=%s/%s reason=%s",
            ticket.key,
            transition,
            actor.kind,
            actor.user_id,
            outcome.code,
        )
        raise TransitionRefused(outcome.code, outcome.message, outcome.missing)
    changes = apply_outcome(ticket, wf, outcome, actor, now)
    ticket.last_activity_at = now
    if actor.kind == "staff":
        ticket.awaiting_reply_since = None
    data = {"transition": transition, **changes}
    if comment_id is not None:
        data["comment"] = comment_id
    if cause:
        data["cause"] = cause
    record(ticket, actor=actor, kind="transition", channel=channel, now=now, **data)
    if "assignee" in changes and ticket.assignee_id:
        fire_event(ticket, "assigned", channel=channel, now=now, depth=depth + 1)
    return outcome


def fire_event(
    ticket: Ticket,
    event: str,
    *,
    channel: str,
    now: datetime,
    environment: str | None = None,
    cause: dict | None = None,
    depth: int = 0,
) -> str | None:
    """Let the workflow react to `event` on a locked ticket; returns the transition made."""
    if depth >= MAX_CHAIN:
        return None
    wf = workflow_of(ticket)
    key = triggered(wf, snapshot(ticket), event, environment=environment)
    if key is None:
        return None
    move(
        ticket,
        actor=SYSTEM_ACTOR,
        transition=key,
        given=Given(),
        channel="system",
        now=now,
        cause={
            "event": event,
            **({"environment": environment} if environment else {}),
            **(cause or {}),
        },
        depth=depth,
    )
    return key
