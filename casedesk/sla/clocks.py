"""A ticket's clocks, kept in step with its changes by the one pure fold.

`sla_follow` is the tickets' observer: inside every finished change's transaction, it
turns the history entries the change recorded into the engine's events
(`casedesk.workflow.sla`), steps the ticket's stored clock state through them and lays the
result out as `TicketClock` rows. `ticket_rebuild` computes the same state from nothing:
the ticket's whole history, with the desk's SLA revisions in between, through `fold`'s
`step`. Both call `_replay`, so they cannot disagree.

Locks are taken in one order everywhere: ticket, then its TicketSla row, then its clocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction

from casedesk.common.rows import Prepared, update_row
from casedesk.desks.models import Desk
from casedesk.tickets.models import Comment, Ticket, TicketEvent
from casedesk.tickets.selectors import workflow_of
from casedesk.workflow import Workflow
from casedesk.workflow.calendar import Calendar
from casedesk.workflow.sla import (
    Clock,
    Clocks,
    CustomerWrote,
    Event,
    Moved,
    Opened,
    Recalendared,
    Replanned,
    Replied,
    Reprioritised,
    clocks_from_data,
    clocks_to_data,
    default_modes,
    step,
)

from .models import SlaRevision, TicketClock, TicketSla
from .revisions import calendar_of, limits_of, plan_of, revision_latest, warn_ratio


def _modes(wf: Workflow, status: str, sub: str) -> dict:
    if status not in wf.statuses:  # a status of an earlier workflow of the desk
        return default_modes("open", "supplier")
    if sub and sub not in wf.sub_statuses:
        sub = ""
    return wf.clock_modes(status, sub)


def sla_events(wf: Workflow, entries: Iterable[TicketEvent], internal: set[int]) -> list[Event]:
    """The engine's events for history entries. A response is a public comment by staff,
    or a staff move with a public message; internal notes and automatic mail never are."""
    out: list[Event] = []
    for e in entries:
        data = e.data
        if e.kind == "created":
            status, sub = data.get("status", ""), data.get("sub_status", "")
            out.append(Opened(e.at, data.get("priority", ""), status, _modes(wf, status, sub)))
        elif e.kind == "transition":
            to = data.get("to") or {}
            status, sub = to.get("status", ""), to.get("sub_status", "")
            comment = data.get("comment")
            out.append(
                Moved(
                    e.at,
                    status,
                    _modes(wf, status, sub),
                    responded=e.actor_kind == "staff"
                    and comment is not None
                    and comment not in internal,
                    reopened="cycle" in data,
                )
            )
            if "priority" in data:
                out.append(Reprioritised(e.at, data["priority"][1]))
        elif e.kind == "comment" and e.public:
            if e.actor_kind == "staff":
                out.append(Replied(e.at))
            elif e.actor_kind == "customer":
                out.append(CustomerWrote(e.at))
        elif e.kind == "edited" and "priority" in data:
            out.append(Reprioritised(e.at, data["priority"][1]))
    return out


def _internal_comments(entries: Sequence[TicketEvent]) -> set[int]:
    ids = [e.data["comment"] for e in entries if e.kind == "transition" and e.data.get("comment")]
    if not ids:
        return set()
    return set(Comment.objects.filter(pk__in=ids, internal=True).values_list("pk", flat=True))


class _Replay:
    """The state of one ticket's clocks as the revisions and events come in."""

    def __init__(self, ticket: Ticket, revision: SlaRevision, state: Clocks):
        self.org = ticket.organisation_id
        self.revision = revision
        self.plan = plan_of(revision, self.org)
        self.state = state

    @property
    def calendar(self) -> Calendar:
        return calendar_of(self.revision, self.plan)

    def revise(self, revision: SlaRevision) -> None:
        """A later configuration: time so far on the old calendar, then the new plan."""
        plan = plan_of(revision, self.org)
        old_cal, new_cal = self.calendar, calendar_of(revision, plan)
        if new_cal != old_cal:
            self.state = step(old_cal, self.state, Recalendared(revision.at))
        limits = limits_of(revision, plan)
        if limits != self.state.plan:
            self.state = step(old_cal, self.state, Replanned(revision.at, limits))
        self.revision, self.plan = revision, plan

    def apply(self, events: Iterable[Event]) -> None:
        cal = self.calendar
        for event in events:
            self.state = step(cal, self.state, event)


def _later_revisions(desk_id: int, after: SlaRevision, upto: datetime | None = None):
    rows = SlaRevision.objects.filter(desk_id=desk_id, at__gte=after.at).exclude(pk=after.pk)
    rows = rows.exclude(at=after.at, id__lt=after.pk)
    if upto is not None:
        rows = rows.filter(at__lte=upto)
    return list(rows.order_by("at", "id"))


# -- rows ---------------------------------------------------------------------------------


def _seconds(value) -> int:
    return int(value.total_seconds())


def clock_rows_write(ticket: Ticket, replay: _Replay) -> None:
    """Lay the clock state out as rows, keeping what was already fired."""
    cal, ratio = replay.calendar, warn_ratio(replay.revision, replay.plan)
    existing = {c.seq: c for c in TicketClock.objects.filter(ticket=ticket)}
    for seq, clock in enumerate(replay.state.clocks):
        row = existing.pop(seq, None) or TicketClock(ticket=ticket, seq=seq)
        _fill(row, clock, cal, ratio, ticket.desk_id)
        row.save()
    for stale in existing.values():  # (a rebuild that found fewer clocks)
        stale.delete()


def _fill(row: TicketClock, clock: Clock, cal: Calendar, ratio: float, desk_id: int) -> None:
    due, warn = clock.due_at(cal), clock.warn_at(cal, ratio)
    row.desk_id = desk_id
    row.cycle, row.target = clock.cycle, clock.target
    row.started_at, row.limit_seconds = clock.started_at, _seconds(clock.limit)
    row.used_seconds, row.measured_at = _seconds(clock.used), clock.since
    row.running, row.paused_by, row.paused_since = (
        clock.running,
        clock.paused_by,
        clock.paused_since,
    )
    row.met_at, row.stopped_at = clock.met_at, clock.stopped_at
    row.breached_at, row.breach_reason = clock.breached_at, clock.breach_reason
    row.due_at = due
    row.warn_at = warn if (warn is not None and due is not None and warn < due) else None
    open_clock = clock.open
    if row.breach_fired_at is None and open_clock:
        row.fire_at = due or clock.breached_at
    else:
        row.fire_at = None
    if row.warned_at is None and row.breach_fired_at is None and open_clock:
        row.warn_fire_at = row.warn_at
    else:
        row.warn_fire_at = None


def _store(ticket: Ticket, replay: _Replay, row: TicketSla | None) -> None:
    row = row or TicketSla(ticket=ticket)
    row.desk_id = ticket.desk_id
    row.revision = replay.revision
    row.plan_id = replay.plan
    row.state = clocks_to_data(replay.state)
    row.open_clocks = any(c.open for c in replay.state.clocks)
    row.save()
    clock_rows_write(ticket, replay)
    ticket_times_write(ticket)


def ticket_times_write(ticket: Ticket, open_rows: Iterable[TicketClock] | None = None) -> None:
    """The ticket's own copy of its clocks' times, for queues (see Ticket.sla_due_at).
    `open_rows`: the ticket's open clocks as they are now, when the caller has them."""
    if open_rows is None:
        open_rows = TicketClock.objects.filter(ticket=ticket, stopped_at=None, met_at=None).only(
            "due_at", "warn_at", "breached_at", "breach_fired_at", "fire_at"
        )
    due = warn = breached = None
    for r in open_rows:
        due = min(filter(None, (due, r.due_at)), default=None)
        warn = min(filter(None, (warn, r.warn_at)), default=None)
        missed = r.breached_at or (r.due_at if r.breach_fired_at else None)
        breached = min(filter(None, (breached, missed)), default=None)
    if (ticket.sla_due_at, ticket.sla_warn_at, ticket.sla_breached_at) != (due, warn, breached):
        ticket.sla_due_at, ticket.sla_warn_at, ticket.sla_breached_at = due, warn, breached
        update_row(ticket, ("sla_due_at", "sla_warn_at", "sla_breached_at"))


# -- live ---------------------------------------------------------------------------------


_state_of = Prepared(lambda ticket_id: TicketSla.objects.filter(ticket_id=ticket_id).order_by())


def _states_of(ticket_ids: list[int]) -> dict[int, TicketSla]:
    return {r.ticket_id: r for r in TicketSla.objects.filter(ticket_id__in=ticket_ids).order_by()}


def sla_follow(change) -> None:
    """The observer: step the ticket's clocks through what this change recorded."""
    ticket, entries = change.ticket, list(change.events)
    if not entries:
        return
    # (under the ticket's lock, which guards its SLA rows: see desk_replan)
    alias = transaction.get_connection().alias
    batch = getattr(change, "batch", None)
    if batch is None:
        row = _state_of.one(ticket.pk, using=alias)
    else:  # the worker's batch reads the batch's states at once (tickets/batch.py)
        row = batch.take(
            "sla state", ticket.pk, _states_of, lambda: _state_of.one(ticket.pk, using=alias)
        )
    if row is None:
        if not any(e.kind == "created" for e in entries):
            return  # opened before the desk had service levels: no clocks
        revision = revision_latest(ticket.desk_id)
        if revision is None:
            return
        replay = _Replay(ticket, revision, Clocks(plan=limits_of(revision, None)))
        replay.state = Clocks(plan=limits_of(revision, replay.plan))
    else:
        replay = _Replay(ticket, row.revision, clocks_from_data(row.state))
        for revision in _later_revisions(ticket.desk_id, row.revision):
            replay.revise(revision)
    replay.apply(sla_events(workflow_of(ticket), entries, _internal_comments(entries)))
    _store(ticket, replay, row)


def desk_replan(desk: Desk, revision: SlaRevision) -> int:
    """A new configuration: re-plan every ticket of the desk whose clocks run now;
    the others catch up on their next change. Returns how many were re-planned.

    Like every writer of a ticket's SLA rows it holds the ticket's lock first (in key
    order, a chunk at a time), so it never waits on a change or a firing that holds a
    ticket and wants its clocks, and the firing needs no lock of its own on them."""
    done = 0
    ids = (
        TicketSla.objects.filter(desk=desk, open_clocks=True)
        .order_by("ticket_id")
        .values_list("ticket_id", flat=True)
    )
    for chunk in _chunks(ids.iterator(chunk_size=500), 500):
        tickets = {
            t.pk: t
            for t in Ticket.objects.filter(pk__in=chunk)
            .order_by("pk")
            .select_for_update(of=("self",))
        }
        rows = TicketSla.objects.filter(ticket_id__in=chunk, open_clocks=True).select_related(
            "revision"
        )
        for row in rows.order_by("ticket_id"):
            ticket = tickets[row.ticket_id]
            replay = _Replay(ticket, row.revision, clocks_from_data(row.state))
            for later in _later_revisions(desk.pk, row.revision, upto=revision.at):
                replay.revise(later)
            _store(ticket, replay, row)
            done += 1
    return done


def _chunks(items: Iterable[int], size: int) -> Iterable[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- rebuild ------------------------------------------------------------------------------


def _replay_history(ticket: Ticket) -> _Replay | None:
    revisions = list(SlaRevision.objects.filter(desk_id=ticket.desk_id).order_by("at", "id"))
    first = [r for r in revisions if r.at <= ticket.created_at]
    if not first:
        return None
    replay = _Replay(ticket, first[-1], Clocks(plan={}))
    replay.state = Clocks(plan=limits_of(first[-1], replay.plan))
    later = [r for r in revisions if r.at > ticket.created_at]
    entries = list(TicketEvent.objects.filter(ticket=ticket).order_by("at", "id"))
    wf = workflow_of(ticket)
    internal = _internal_comments(entries)
    for entry in entries:
        while later and later[0].at <= entry.at:
            replay.revise(later.pop(0))
        replay.apply(sla_events(wf, [entry], internal))
    for revision in later:
        replay.revise(revision)
    return replay


def ticket_rebuild(ticket_id: int) -> bool:
    """Compute the ticket's clocks again from its history; True when they had drifted."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_related("workflow")
            .select_for_update(of=("self",))
            .get(pk=ticket_id)
        )
        row = TicketSla.objects.select_for_update().filter(ticket=ticket).first()
        replay = _replay_history(ticket)
        if replay is None:
            changed = row is not None
            TicketClock.objects.filter(ticket=ticket).delete()
            TicketSla.objects.filter(ticket=ticket).delete()
            ticket_times_write(ticket)
            return changed
        before = row.state if row is not None else None
        _store(ticket, replay, row)
        return before != clocks_to_data(replay.state)


def sla_rebuild(*, desk: Desk | None = None) -> tuple[int, int]:
    """Rebuild every ticket's clocks (of one desk); returns (tickets, drifted)."""
    ids = Ticket.objects.order_by("pk")
    if desk is not None:
        ids = ids.filter(desk=desk)
    seen = drifted = 0
    for ticket_id in ids.values_list("pk", flat=True).iterator(chunk_size=1000):
        seen += 1
        drifted += ticket_rebuild(ticket_id)
    return seen, drifted
