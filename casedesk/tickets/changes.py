"""The one unit of work every change to a ticket goes through.

`ticket_change` locks the ticket as someone who may see it, checks the caller's version and
authorises them; the `TicketChange` it yields records history, makes transitions and lets
the workflow react to events; leaving the block saves the ticket under a new version and
sets its timer again, all in one transaction. The system's own changes (timers, release
events, SLA events) use the same `TicketChange` on a ticket they locked themselves.

Nothing outside `casedesk.tickets` imports this module (an import-linter contract): other
packages call the public services, which are built on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet

from casedesk.common import clock
from casedesk.common.errors import NotFound, StaleTicket, refused
from casedesk.common.rows import Prepared, delete_row, fields_of, insert_row, one, update_row
from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Outcome,
    after,
    decide,
    flags_triggered,
    next_timer,
    triggered,
)

from . import observers, outbox
from .bridge import actor_for, snapshot, store, workflow_of
from .models import Ticket, TicketEvent, TicketTimer
from .permissions import authorise

security_log = logging.getLogger("casedesk.security")

# An event may set off a transition, whose effects may set off another event; stop there.
MAX_CHAIN = 3


def _for_change(rows: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
    """The ticket with what a change needs of it: its desk, its team and its workflow's
    checksum (the compiled workflow is cached by checksum, so the version's source text,
    tens of kilobytes, is not read again with every locked ticket)."""
    return rows.select_related("desk", "team").annotate(workflow_checksum=F("workflow__checksum"))


def lock_ticket(user, ticket_id: int, expected_version: int | None) -> Ticket:
    """Lock the ticket row for this transaction, as `user` sees it (None: the system)."""
    assert transaction.get_connection().in_atomic_block, "lock_ticket needs a transaction"
    rows = Ticket.objects.all() if user is None else Ticket.objects.visible_to(user)
    ticket = one(_for_change(rows).select_for_update(of=("self",)).filter(pk=ticket_id))
    if ticket is None:
        raise NotFound("ticket.not_found")
    if expected_version is not None and ticket.version != expected_version:
        raise StaleTicket(ticket.key, expected_version, ticket.version)
    return ticket


# The worker claims a ticket for every timer or clock it fires: the read is kept built.
_claim = Prepared(
    lambda pk: (
        _for_change(Ticket.objects.all())
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk=pk)
        .order_by()
    )
)


_timer = Prepared(lambda pk: TicketTimer.objects.filter(pk=pk).order_by())
TICKET_FIELDS = fields_of(Ticket)
TIMER_FIELDS = fields_of(TicketTimer)


def timer_of(ticket_id: int) -> TicketTimer | None:
    """The ticket's timer row (read under the ticket's lock: nobody else writes it)."""
    return _timer.one(ticket_id, using=transaction.get_connection().alias)


def timers_of(ticket_ids: list[int]) -> dict[int, TicketTimer]:
    """The timer rows of many tickets, by ticket (read under the tickets' locks)."""
    return {t.pk: t for t in TicketTimer.objects.filter(pk__in=ticket_ids).order_by()}


def claim_ticket(ticket_id: int) -> Ticket | None:
    """For the system's own work: lock the ticket for this transaction, or None when
    another worker or a person holds it (SKIP LOCKED; the next sweep looks again)."""
    connection = transaction.get_connection()
    assert connection.in_atomic_block, "claim_ticket needs a transaction"
    return _claim.one(ticket_id, using=connection.alias)


class TicketChange:
    """One change to one locked ticket, by one actor, through one channel, at one time."""

    def __init__(
        self, ticket: Ticket, *, user, who: Actor, channel: str, now: datetime, new: bool = False
    ):
        self.ticket = ticket
        self.user = user  # the acting person (None for the system)
        self.who = who
        self.channel = channel
        self.now = now
        self.wf = workflow_of(ticket)
        self.changed = new
        self._new = new
        self._announced_assignee = ticket.assignee_id
        self.events: list[TicketEvent] = []  # recorded in this change, in order
        # The ticket's timer row as read under this lock by whoever made the change (the
        # timer sweep); finish() then need not read it again. None: not read.
        self.timer: TicketTimer | None = None
        # The worker's batch this change is part of (tickets/batch.py), or None: what
        # lies beside the ticket may have been read for the whole batch (`take`).
        self.batch: Any = None

    # -- history ------------------------------------------------------------------------

    def record(
        self, kind: str, *, public: bool = True, channel: str | None = None, **data: object
    ) -> TicketEvent:
        """Append an entry to the ticket's history (and hand it to the outbox)."""
        self.changed = True
        event = record_event(
            self.ticket,
            actor=self.who,
            kind=kind,
            channel=channel or self.channel,
            now=self.now,
            public=public,
            **data,
        )
        self.events.append(event)
        return event

    def touch(self, *, activity: bool = False) -> None:
        """Mark the ticket changed without a history entry of its own."""
        self.changed = True
        if activity:
            self.ticket.last_activity_at = self.now

    # -- people ---------------------------------------------------------------------------

    def assign(self, new_id: int | None) -> bool:
        """Give the ticket to a staff member (or nobody); the `assigned` event follows when
        the change is finished, whichever way the assignee was set."""
        if new_id == self.ticket.assignee_id:
            return False
        self.record("assigned", assignee=[self.ticket.assignee_id, new_id])
        self.ticket.assignee_id = new_id
        return True

    def assign_customer(self, new_id: int | None) -> bool:
        if new_id == self.ticket.customer_assignee_id:
            return False
        self.record(
            "customer_assigned", customer_assignee=[self.ticket.customer_assignee_id, new_id]
        )
        self.ticket.customer_assignee_id = new_id
        return True

    # -- the workflow ---------------------------------------------------------------------

    def move(
        self,
        transition: str,
        given: Given | None = None,
        *,
        actor: Actor | None = None,
        comment_id: int | None = None,
        cause: dict | None = None,
    ) -> Outcome:
        """Decide one transition on the ticket as the engine sees it, and store the
        engine's result: the ticket afterwards is `after(snapshot, outcome)`."""
        actor = actor or self.who
        before = snapshot(self.ticket)
        outcome = decide(self.wf, before, actor, transition, given or Given(), self.now)
        if isinstance(outcome, Denied):
            security_log.warning(
                "transition.denied ticket=%s transition=%s actor=%s/%s reason=%s",
                self.ticket.key,
                transition,
                actor.kind,
                actor.user_id,
                outcome.reason,
            )
            raise refused(outcome, self.wf)
        changes = store(
            self.ticket, self.wf, before, after(before, outcome, actor=actor, now=self.now)
        )
        data: dict = {"transition": transition, **changes}
        if comment_id is not None:
            data["comment"] = comment_id
        if cause:
            data["cause"] = cause
        self.changed = True
        self.events.append(
            record_event(
                self.ticket,
                actor=actor,
                kind="transition",
                channel="system" if actor.kind == "system" else self.channel,
                now=self.now,
                **data,
            )
        )
        return outcome

    def fire(
        self,
        event: str,
        *,
        environment: str | None = None,
        cause: dict | None = None,
        depth: int = 0,
    ) -> str | None:
        """Let the workflow react to `event`; returns the transition the system made."""
        if depth >= MAX_CHAIN:
            return None
        snap = snapshot(self.ticket)
        key = triggered(self.wf, snap, event, environment=environment)
        if key is None:
            self._raise_flags(
                flags_triggered(self.wf, snap, event, environment=environment), event, cause
            )
            return None
        self.move(
            key,
            actor=SYSTEM_ACTOR,
            cause={
                "event": event,
                **({"environment": environment} if environment else {}),
                **(cause or {}),
            },
        )
        self._announce_assignee(depth + 1)
        return key

    def _raise_flags(self, added: frozenset[str], event: str, cause: dict | None) -> None:
        """The workflow flags the ticket for an event without moving it (customers see the
        entry only for a flag the workflow makes public)."""
        if not added:
            return
        self.ticket.flags = sorted({*self.ticket.flags, *added})
        for flag in sorted(added):  # one entry each: an internal flag's stays internal
            self.record(
                "flagged",
                public=self.wf.flag_public(flag),
                channel="system",
                flag=flag,
                cause={"event": event, **(cause or {})},
            )

    def _announce_assignee(self, depth: int) -> None:
        new = self.ticket.assignee_id
        if new and new != self._announced_assignee:
            self._announced_assignee = new
            self.fire("assigned", depth=depth)

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> None:
        """Save the changed ticket under a new version, set its timer for its new state and
        let the observers (`observers.py`) follow the change, all in its transaction."""
        if not self._new:  # a ticket just inserted is saved as it is
            self._announce_assignee(0)
            self.ticket.version += 1
            self.ticket.updated_at = self.now
            update_row(self.ticket, TICKET_FIELDS)  # save(), from a kept statement
        timer = self.timer
        if timer is None and self.batch is not None:
            pk = self.ticket.pk
            timer = self.batch.take("timer", pk, timers_of, lambda: timer_of(pk))
            timer = timer or TicketTimer(ticket=self.ticket)  # (none: nothing to delete)
        reset_timer(self.ticket, row=timer)
        observers.notify(self)


@contextmanager
def ticket_change(
    *,
    user,
    ticket_id: int,
    expected_version: int | None,
    verb: str | None = None,
    channel: str = "web",
    now: datetime | None = None,
) -> Iterator[TicketChange]:
    """A change by `user` (None: the system) to one ticket, in one transaction.

    `verb` is what `authorise` checks; without one, the workflow alone decides (it knows
    who may make each transition). The ticket is saved on leaving the block only when
    something was recorded.
    """
    now = now or clock.now()
    with transaction.atomic():
        ticket = lock_ticket(user, ticket_id, expected_version)
        if verb is not None:
            who = authorise(user, verb, ticket.desk)
        else:
            who = actor_for(user, ticket.desk)
        change = TicketChange(ticket, user=user, who=who, channel=channel, now=now)
        yield change
        if change.changed:
            change.finish()


def record_event(
    ticket: Ticket,
    *,
    actor: Actor,
    kind: str,
    channel: str,
    now: datetime,
    public: bool = True,
    **data: object,
) -> TicketEvent:
    event = TicketEvent(
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
    insert_row(event)  # what create() does, from a kept statement (a hot path)
    outbox.enqueue(event)
    return event


def reset_timer(ticket: Ticket, *, row: TicketTimer | None = None) -> None:
    """Write the ticket's next automatic move, as the engine computes it, onto its timer.
    `row`: the ticket's timer row, when the caller read it under the ticket's lock."""
    due = next_timer(workflow_of(ticket), snapshot(ticket))
    if due is None:
        if row is None or not row._state.adding:  # (a row not yet saved: nothing to delete)
            delete_row(TicketTimer, ticket.pk)
        return
    if row is None:
        row = timer_of(ticket.pk) or TicketTimer(ticket=ticket)
    if (row.timer, row.due_at) != (due.timer.key, due.due_at):
        row.warned_at = None  # a new timer or due time deserves its own warning
        row.attempts, row.held_at = 0, None  # and its own tries
    row.desk_id = ticket.desk_id
    row.timer, row.transition = due.timer.key, due.timer.transition
    row.due_at, row.warn_at = due.due_at, due.warn_at
    row.ticket_version = ticket.version
    # under the ticket's lock nobody else writes its timer: a new row is an insert
    if row._state.adding:
        insert_row(row)
    else:
        update_row(row, TIMER_FIELDS)
