"""Firing due timers and SLA clocks in batches leaves exactly what firing them one by one
leaves: the same history entries, outbox items, tickets, timers and SLA rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casedesk.common.rows import update_row
from casedesk.common.writes import kept_back
from casedesk.sla import services as sla
from casedesk.sla.firing import sla_breaches_fire, sla_warnings_fire
from casedesk.sla.models import TicketClock, TicketSla
from casedesk.tickets import services
from casedesk.tickets.models import OutboxItem, Ticket, TicketEvent, TicketTimer
from casedesk.tickets.timers import timers_fire_due, timers_warn_due
from tests.conftest import make_desk


def _rows(model, order: str, drop: tuple[str, ...] = ()) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in drop}
        for row in model.objects.order_by(order, "pk").values()
    ]


def state() -> dict:
    """What a firing leaves behind, without the keys new rows were given (PostgreSQL's
    sequences are not rolled back with the first run)."""
    events = list(TicketEvent.objects.order_by("ticket_id", "pk"))
    place = {e.pk: (e.ticket_id, i) for i, e in enumerate(events)}
    return {
        "events": [
            (e.ticket_id, e.at, e.actor_id, e.actor_kind, e.channel, e.kind, e.public, e.data)
            for e in events
        ],
        "outbox": sorted(
            (place[o.event_id], o.consumer, o.next_attempt_at, o.attempts, o.held_at)
            for o in OutboxItem.objects.all()
        ),
        "tickets": _rows(Ticket, "pk"),
        "timers": _rows(TicketTimer, "pk"),
        "sla": _rows(TicketSla, "ticket_id", ("id",)),
        "clocks": _rows(TicketClock, "ticket_id", ("id",)),
    }


def both_ways(fire) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """`fire(many)` batched and one by one on the same data: (fired, state) of each."""
    with transaction.atomic():
        batched = fire(50)
        after_batched = state()
        transaction.set_rollback(True)
    alone = fire(1)
    return (batched, after_batched), (alone, state())


def resolved(world, desk, n: int) -> list:
    tickets = []
    for i in range(n):
        t = services.ticket_create(actor=world.alice, desk=desk, title=f"T{i}", description="x")
        services.ticket_transition(
            actor=world.agent, ticket=t, transition="start", assignee=world.agent
        )
        tickets.append(
            services.ticket_transition(
                actor=world.agent, ticket=t, transition="resolve", comment="Fixed"
            )
        )
    return tickets


@pytest.fixture
def sla_world(world):
    sla.calendar_set(actor=world.admin, desk=world.desk, zone="Europe/Amsterdam", always=True)
    targets = {
        p: {"first_response": 60, "resolution": 8 * 60}
        for p in world.desk.workflow.workflow.priorities
    }
    sla.plan_save(
        actor=world.admin,
        desk=world.desk,
        slug="std",
        name="Std",
        targets=targets,
        desk_default=True,
    )
    return world


def test_timers_fire_the_same_in_a_batch_as_one_by_one(sla_world, clock):
    world = sla_world
    tickets = resolved(world, world.desk, 7)
    # one timer written for an older version of its ticket: set again, not fired
    stale = TicketTimer.objects.get(ticket=tickets[2])
    stale.ticket_version = 0
    update_row(stale, ("ticket_version",))
    clock.advance(days=8)
    (batched, after_batched), (alone, after_alone) = both_ways(
        lambda many: timers_fire_due(many=many)
    )
    assert batched == alone == 6
    assert after_batched == after_alone
    assert sum(1 for t in after_alone["tickets"] if t["status"] == "closed") == 6
    assert any(e[5] == "transition" for e in after_alone["events"])


def test_timer_warnings_are_written_the_same_in_a_batch_as_one_by_one(sla_world, clock):
    world = sla_world
    tickets = resolved(world, world.desk, 7)
    # one timer written for an older version of its ticket, one warned already: no warning
    stale = TicketTimer.objects.get(ticket=tickets[2])
    stale.ticket_version = 0
    update_row(stale, ("ticket_version",))
    clock.advance(days=5)  # the default workflow warns two days before it closes
    warned = TicketTimer.objects.get(ticket=tickets[4])
    warned.warned_at = clock()
    update_row(warned, ("warned_at",))
    (batched, after_batched), (alone, after_alone) = both_ways(
        lambda many: timers_warn_due(many=many)
    )
    assert batched == alone == 5
    assert after_batched == after_alone
    assert sum(1 for e in after_alone["events"] if e[5] == "timer_warning") == 5
    assert sum(1 for t in after_alone["timers"] if t["warned_at"] is not None) == 6


def test_a_batch_of_timer_warnings_takes_a_few_statements_for_all(world, clock):
    resolved(world, world.desk, 30)
    clock.advance(days=5)
    with CaptureQueriesContext(connection) as one_by_one, transaction.atomic():
        assert timers_warn_due(many=1) == 30
        transaction.set_rollback(True)
    with CaptureQueriesContext(connection) as batched:
        assert timers_warn_due() == 30
    assert len(one_by_one.captured_queries) >= 5 * 30
    assert len(batched.captured_queries) <= 20, [q["sql"][:60] for q in batched.captured_queries]


def test_sla_breaches_and_warnings_fire_the_same_in_a_batch_as_one_by_one(sla_world, clock):
    world = sla_world
    for i in range(5):
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"S{i}", description="x")
    assu = make_desk("assu", "ASU", [world.org_a], {world.agent: "agent"})
    sla.calendar_set(actor=world.admin, desk=assu, zone="Europe/Amsterdam", always=True)
    sla.plan_save(
        actor=world.admin,
        desk=assu,
        slug="std",
        name="Std",
        desk_default=True,
        targets={p: {"resolution": 4 * 60} for p in assu.workflow.workflow.priorities},
    )
    for i in range(4):  # the workflow escalates these on a breach: a move in the batch
        services.ticket_create(actor=world.alice, desk=assu, title=f"A{i}", description="x")
    clock.advance(hours=3, minutes=30)  # past 80 % of the assu clocks
    (w_batched, w_state), (w_alone, w_state_alone) = both_ways(
        lambda many: sla_warnings_fire(many=many)
    )
    assert w_batched == w_alone > 0
    assert w_state == w_state_alone
    clock.advance(hours=6)
    (batched, after_batched), (alone, after_alone) = both_ways(
        lambda many: sla_breaches_fire(many=many)
    )
    assert batched == alone >= 9
    assert after_batched == after_alone
    statuses = {t["status"] for t in after_alone["tickets"] if t["desk_id"] == assu.pk}
    assert statuses == {"geescaleerd"}


def test_a_batch_that_fails_falls_back_to_one_by_one(sla_world, clock, monkeypatch):
    world = sla_world
    tickets = resolved(world, world.desk, 4)
    clock.advance(days=8)
    from casedesk.tickets import timers

    real = timers._fire
    bad = tickets[1].pk

    def failing(ticket, timer, now, batch=None):
        if ticket is not None and ticket.pk == bad:
            raise RuntimeError("boom")
        return real(ticket, timer, now, batch)

    monkeypatch.setattr(timers, "_fire", failing)
    assert timers_fire_due() == 3
    closed = set(Ticket.objects.filter(status="closed").values_list("pk", flat=True))
    assert closed == {t.pk for t in tickets} - {bad}
    timer = TicketTimer.objects.get(ticket_id=bad)
    assert timer.attempts == 1 and "boom" in timer.last_error
    for t in tickets:
        if t.pk != bad:
            assert (
                TicketEvent.objects.filter(ticket=t, kind="transition", actor_kind="system").count()
                == 1
            )


def test_a_batch_of_timers_takes_a_few_statements_for_all(world, clock):
    resolved(world, world.desk, 30)
    clock.advance(days=8)
    with CaptureQueriesContext(connection) as one_by_one, transaction.atomic():
        assert timers_fire_due(many=1) == 30
        transaction.set_rollback(True)
    with CaptureQueriesContext(connection) as batched:
        assert timers_fire_due() == 30
    assert len(one_by_one.captured_queries) >= 8 * 30
    assert len(batched.captured_queries) <= 20, [q["sql"][:60] for q in batched.captured_queries]


def test_kept_back_writes_are_sent_before_any_other_statement(sla_world, clock):
    world = sla_world
    t = resolved(world, world.desk, 1)[0]
    with transaction.atomic():
        with kept_back() as writes:
            t.title = "Changed"
            update_row(t, ("title",))
            assert writes.statements == 0
            # a read of the same row sees the write that was kept back
            assert Ticket.objects.get(pk=t.pk).title == "Changed"
            assert writes.statements == 1
        transaction.set_rollback(True)
    assert Ticket.objects.get(pk=t.pk).title != "Changed"


def test_a_deleted_then_written_row_keeps_its_order(sla_world, clock):
    world = sla_world
    t = resolved(world, world.desk, 1)[0]
    from casedesk.common.rows import delete_row, insert_row

    timer = TicketTimer.objects.get(ticket=t)
    with transaction.atomic(), kept_back():
        delete_row(TicketTimer, t.pk)
        timer._state.adding = True
        timer.timer = "again"
        insert_row(timer)
    assert TicketTimer.objects.get(ticket=t).timer == "again"
    assert clock() + timedelta(days=1) > timer.due_at - timedelta(days=7)
