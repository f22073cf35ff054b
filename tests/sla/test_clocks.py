"""Clocks on real tickets: the observer in each change's transaction, the rebuild from
history, and the worker firing breaches and warnings once. Times are hand-computed in
Europe/Amsterdam (UTC+1 in November), 08:00-17:00 on weekdays; T0 is Monday 10:00."""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casedesk.ops.worker import run_once
from casedesk.sla import services as sla
from casedesk.sla.clocks import sla_rebuild, ticket_rebuild
from casedesk.sla.firing import sla_fire_due
from casedesk.sla.models import SlaPlan, TicketClock, TicketSla
from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from tests.helpers import fresh


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clocks(ticket) -> dict[str, TicketClock]:
    return {c.target: c for c in TicketClock.objects.filter(ticket=ticket).order_by("seq")}


def new_ticket(world):
    return services.ticket_create(
        actor=world.alice, desk=world.desk, title="Broken", description="x"
    )


def test_a_new_ticket_gets_its_clocks_in_its_own_transaction(world, sla_desk, clock):
    ticket = new_ticket(world)
    c = clocks(ticket)
    assert set(c) == {"first_response", "resolution"}
    assert c["first_response"].due_at == utc(2026, 11, 2, 10, 0)  # 11:00 local
    assert c["resolution"].due_at == utc(2026, 11, 3, 8, 0)  # 7 h Monday, 1 h Tuesday
    assert c["resolution"].warn_at == utc(2026, 11, 2, 15, 24)  # 80 %: 6 h 24 min, 16:24 local


def test_a_public_reply_meets_the_first_response_an_internal_note_does_not(world, sla_desk, clock):
    ticket = new_ticket(world)
    clock.advance(minutes=20)
    services.comment_add(actor=world.agent, ticket=ticket, body="looking", internal=True)
    assert clocks(ticket)["first_response"].met_at is None
    clock.advance(minutes=10)
    services.comment_add(actor=world.agent, ticket=ticket, body="We are on it")
    first = clocks(ticket)["first_response"]
    assert first.met_at == utc(2026, 11, 2, 9, 30) and first.fire_at is None


def test_waiting_for_the_customer_pauses_and_their_answer_starts_a_next_response(
    world, sla_desk, clock
):
    ticket = new_ticket(world)
    clock.advance(hours=1)  # 11:00 local, one business hour used
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="ask_customer", comment="Which printer?"
    )
    res = clocks(ticket)["resolution"]
    assert not res.running and res.paused_by == "waiting_customer" and res.due_at is None
    assert res.paused_since == utc(2026, 11, 2, 10, 0)
    clock.set(utc(2026, 11, 6, 16, 0))  # Friday 17:00 local, across four days of pause
    services.comment_add(actor=world.alice, ticket=fresh(ticket), body="The one on floor 2")
    by_target = clocks(ticket)
    assert by_target["resolution"].running
    assert by_target["resolution"].used_seconds == 3600
    # 7 business hours left from Friday 17:00: all of Monday 08:00-15:00
    assert by_target["resolution"].due_at == utc(2026, 11, 9, 14, 0)
    nxt = by_target["next_response"]
    assert nxt.started_at == utc(2026, 11, 6, 16, 0) and nxt.limit_seconds == 4 * 3600
    assert nxt.due_at == utc(2026, 11, 9, 11, 0)  # Monday 12:00 local
    assert sla_rebuild() == (1, 0)


def test_resolving_straight_from_a_paused_status_meets_the_clock(world, sla_desk, clock):
    ticket = new_ticket(world)
    ticket = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="ask_customer", comment="Which one?"
    )
    clock.advance(days=3)
    services.ticket_transition(
        actor=world.agent, ticket=fresh(ticket), transition="resolve", comment="Found it"
    )
    res = clocks(ticket)["resolution"]
    assert res.met_at == clock() and res.used_seconds == 0 and res.breached_at is None


def test_a_reopen_long_after_starts_a_new_cycle_that_does_not_breach_at_once(
    world, sla_desk, clock
):
    ticket = new_ticket(world)
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="resolve", comment="Done"
    )
    clock.set(utc(2027, 3, 1, 9, 0))  # months later, a Monday 10:00 local
    services.ticket_transition(
        actor=world.alice, ticket=fresh(ticket), transition="reopen", comment="Back again"
    )
    rows = list(TicketClock.objects.filter(ticket=ticket, target="resolution").order_by("seq"))
    assert [r.cycle for r in rows] == [1, 2]
    assert rows[1].started_at == clock() and rows[1].breached_at is None
    assert rows[1].due_at == utc(2027, 3, 2, 8, 0)
    assert sla_fire_due(now=clock()) == 0


def test_a_priority_raised_after_time_was_used_counts_that_time_and_may_breach_at_once(
    world, sla_desk, clock
):
    plan = SlaPlan.objects.get(desk=sla_desk)
    sla.plan_save(
        actor=world.admin,
        desk=sla_desk,
        slug=plan.slug,
        name=plan.name,
        desk_default=True,
        targets={"normal": {"resolution": 8 * 60}, "urgent": {"resolution": 2 * 60}},
    )
    ticket = new_ticket(world)
    clock.advance(hours=3)
    services.ticket_edit(actor=world.agent, ticket=ticket, priority="urgent")
    res = clocks(ticket)["resolution"]
    assert res.breached_at == clock() and res.breach_reason == "target_lowered"
    assert sla_fire_due(now=clock()) == 1
    assert sla_fire_due(now=clock()) == 0  # once
    assert TicketClock.objects.get(pk=res.pk).breach_fired_at == clock()
    assert sla_rebuild() == (1, 0)


def test_a_calendar_edited_while_a_clock_runs_replans_it_from_then_on(world, sla_desk, clock):
    ticket = new_ticket(world)
    services.comment_add(actor=world.agent, ticket=ticket, body="On it")  # first response met
    clock.advance(hours=2)  # Monday 12:00 local: 2 h used
    sla.calendar_set(
        actor=world.admin,
        desk=sla_desk,
        zone="Europe/Amsterdam",
        week={d: [("08:00", "12:00")] for d in range(5)},
    )
    res = clocks(ticket)["resolution"]
    assert res.used_seconds == 2 * 3600
    # 6 h left on mornings only: Tuesday 4 h, Wednesday 2 h -> Wednesday 10:00 local
    assert res.due_at == utc(2026, 11, 4, 9, 0)
    first = clocks(ticket)["first_response"]
    assert first.met_at == utc(2026, 11, 2, 9, 0)  # a met clock keeps what it measured
    assert sla_rebuild() == (1, 0)


def test_the_worker_fires_a_breach_once_and_an_assu_ticket_is_escalated(world, clock):
    from tests.conftest import make_desk

    desk = make_desk("assu", "ASU", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    sla.calendar_set(actor=world.admin, desk=desk, zone="Europe/Amsterdam", always=True)
    wf = desk.workflow.workflow
    sla.plan_save(
        actor=world.admin,
        desk=desk,
        slug="std",
        name="Std",
        desk_default=True,
        targets={p: {"resolution": 4 * 60} for p in wf.priorities},
    )
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="Slow", description="x")
    clock.advance(hours=3, minutes=12)  # 80 % of 4 h
    assert run_once()[1] >= 1
    assert TicketClock.objects.get(ticket=ticket, target="resolution").warned_at == clock()
    clock.advance(minutes=48)
    run_once()
    ticket = fresh(ticket)
    assert ticket.status == "geescaleerd", ticket.status
    moves = TicketEvent.objects.filter(ticket=ticket, kind="transition")
    assert [m.data["cause"]["event"] for m in moves] == ["sla_breached"]
    assert moves[0].data["cause"]["sla"]["target"] == "resolution"
    run_once()
    assert TicketEvent.objects.filter(ticket=ticket, kind="transition").count() == 1


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "staff_reply",
                "note",
                "customer",
                "ask",
                "answered",
                "resolve",
                "reopen",
                "priority",
                "third_party",
                "start",
            ]
        ),
        st.integers(min_value=0, max_value=60 * 30),  # minutes before the action
    ),
    max_size=12,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_live_clocks_and_the_rebuild_agree_on_random_histories(world, sla_desk, clock, actions):
    ticket = new_ticket(world)
    for action, minutes in actions:
        clock.advance(minutes=minutes)
        t = fresh(ticket)
        try:
            if action == "staff_reply":
                services.comment_add(actor=world.agent, ticket=t, body="reply")
            elif action == "note":
                services.comment_add(actor=world.agent, ticket=t, body="n", internal=True)
            elif action == "customer":
                services.comment_add(actor=world.alice, ticket=t, body="more")
            elif action == "priority":
                services.ticket_edit(
                    actor=world.agent,
                    ticket=t,
                    priority="urgent" if t.priority != "urgent" else "low",
                )
            else:
                transition = {
                    "ask": "ask_customer",
                    "answered": "customer_answered",
                    "resolve": "resolve",
                    "reopen": "reopen",
                    "third_party": "to_third_party",
                    "start": "start",
                }[action]
                services.ticket_transition(
                    actor=world.agent,
                    ticket=t,
                    transition=transition,
                    comment="c",
                    assignee=world.agent if transition == "start" else None,
                )
        except Exception as exc:  # a move the workflow refuses here is simply not made
            if type(exc).__name__ not in ("TransitionRefused", "InvalidInput"):
                raise
    live = TicketSla.objects.get(ticket=ticket).state
    live_rows = list(TicketClock.objects.filter(ticket=ticket).values_list("due_at", "breached_at"))
    assert ticket_rebuild(ticket.pk) is False
    assert TicketSla.objects.get(ticket=ticket).state == live
    assert (
        list(TicketClock.objects.filter(ticket=ticket).values_list("due_at", "breached_at"))
        == live_rows
    )


def test_firing_a_breach_reads_its_ticket_once_and_not_its_workflow_source(world, sla_desk, clock):
    """The worker's cost per fired clock: the ticket is read (and locked) in one
    statement, with its workflow's checksum instead of the version's source text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = new_ticket(world)
    clock.advance(days=30)
    with CaptureQueriesContext(connection) as run:
        fired = sla_fire_due(now=clock())
    assert fired == 2  # first response and resolution, both passed
    reads = [q["sql"] for q in run.captured_queries if q["sql"].startswith("SELECT")]
    ticket_reads = [s for s in reads if 'FROM "tickets_ticket"' in s]
    assert len(ticket_reads) == fired, ticket_reads
    assert not any('"desks_workflowversion"."source"' in s for s in reads)
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").count() == fired
    assert sla_fire_due(now=clock()) == 0


def test_a_closure_set_and_removed_through_the_api_replans_running_clocks_only(
    world, sla_desk, clock
):
    from tests.api.conftest import Api

    ticket = new_ticket(world)
    services.comment_add(actor=world.agent, ticket=ticket, body="On it")  # first response met
    clock.advance(hours=2)  # Monday 12:00 local: 2 h of 8 used
    days = f"desks/{sla_desk.pk}/service-levels/calendar/days"
    r = Api(world.admin).put(f"{days}/2026-11-02", {"kind": "closure", "name": "Storm"})
    assert r.status_code == 200, r.content
    res = clocks(ticket)["resolution"]
    # the rest of Monday is closed from now on: 6 h left, Tuesday 08:00-14:00 local
    assert res.used_seconds == 2 * 3600 and res.due_at == utc(2026, 11, 3, 13, 0)
    assert clocks(ticket)["first_response"].met_at == utc(2026, 11, 2, 9, 0)
    assert Api(world.admin).delete(f"{days}/2026-11-02").status_code == 200
    res = clocks(ticket)["resolution"]
    # open again: Monday 12:00-17:00 and Tuesday 08:00-09:00 local
    assert res.used_seconds == 2 * 3600 and res.due_at == utc(2026, 11, 3, 8, 0)
    assert clocks(ticket)["first_response"].met_at == utc(2026, 11, 2, 9, 0)
    assert sla_rebuild() == (1, 0)
