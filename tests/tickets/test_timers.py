"""Timers fire through the worker: once, on time, never on a changed ticket, and at a
cost that follows the due tickets only."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command

from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent, TicketTimer
from casedesk.tickets.timers import timers_fire_due


def resolved(world, ticket):
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", assignee=world.agent
    )
    return services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="resolve", comment="Fixed"
    )


def test_quiet_resolved_ticket_closes_once_when_due(world, ticket, clock):
    t = resolved(world, ticket)
    timer = TicketTimer.objects.get(ticket=t)
    assert (timer.timer, timer.due_at, timer.ticket_version) == (
        "quiet_close",
        clock() + timedelta(days=7),
        t.version,
    )
    clock.advance(days=7, seconds=-1)
    assert timers_fire_due() == 0
    clock.advance(seconds=1)
    assert timers_fire_due() == 1
    assert timers_fire_due() == 0
    t.refresh_from_db()
    assert t.status == "closed"
    fired = TicketEvent.objects.filter(ticket=t, kind="transition", actor_kind="system")
    assert fired.count() == 1
    assert fired.get().data["cause"]["timer"] == "quiet_close" and fired.get().channel == "system"
    assert not TicketTimer.objects.filter(ticket=t).exists()


def test_a_customer_reply_holds_the_timer_until_staff_answer(world, ticket, clock):
    t = resolved(world, ticket)
    clock.advance(days=6)
    services.comment_add(actor=world.alice, ticket=t, body="Wait, one more thing")
    assert not TicketTimer.objects.filter(ticket=t).exists()
    clock.advance(days=30)
    assert timers_fire_due() == 0
    services.comment_add(actor=world.agent, ticket=t, body="Here is the answer")
    assert TicketTimer.objects.get(ticket=t).due_at == clock() + timedelta(days=7)


def test_activity_pushes_a_last_activity_timer(world, ticket, clock):
    t = resolved(world, ticket)
    clock.advance(days=3)
    services.comment_add(actor=world.agent, ticket=t, body="Did it work?")
    assert TicketTimer.objects.get(ticket=t).due_at == clock() + timedelta(days=7)


def test_a_timer_set_for_an_older_version_never_fires(world, ticket, clock):
    t = resolved(world, ticket)
    TicketTimer.objects.filter(ticket=t).update(ticket_version=t.version - 1)
    clock.advance(days=8)
    assert timers_fire_due() == 0  # not fired: set again for the current version instead
    assert TicketTimer.objects.get(ticket=t).ticket_version == t.version
    assert timers_fire_due() == 1


def test_sweeping_costs_what_is_due_not_what_exists(world, clock, django_assert_num_queries):
    for i in range(40):
        t = services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{i}")
        resolved(world, t)
    assert TicketTimer.objects.count() == 40
    with django_assert_num_queries(1):  # one indexed range read, however many timers exist
        assert timers_fire_due() == 0
    clock.advance(days=8)
    assert timers_fire_due() == 40
    assert Ticket.objects.filter(status="closed").count() == 40


def test_worker_once_fires_timers_and_runs_tasks(world, ticket, clock, capsys):
    resolved(world, ticket)
    clock.advance(days=7)
    call_command("worker", once=True)
    assert "fired 1 timer(s)" in capsys.readouterr().out
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_a_timer_never_makes_a_move_the_system_may_not_make(world, ticket, clock, caplog):
    t = resolved(world, ticket)
    # as if the row had been tampered with, or the workflow changed under it
    TicketTimer.objects.filter(ticket=t).update(transition="resolve")
    clock.advance(days=8)
    assert timers_fire_due() == 0
    t.refresh_from_db()
    assert t.status == "resolved"
    assert not TicketTimer.objects.filter(ticket=t).exists()
    assert "refused" in caplog.text


def test_a_warning_is_written_once_before_the_timer_acts(world, ticket, clock):
    from casedesk.tickets.timers import timers_warn_due

    t = resolved(world, ticket)  # default: closes 7 days after the last activity, warns 2 ahead
    timer = TicketTimer.objects.get(ticket=t)
    assert timer.warn_at == clock() + timedelta(days=5) and timer.warned_at is None
    clock.advance(days=5, seconds=-1)
    assert timers_warn_due() == 0
    clock.advance(seconds=1)
    version = Ticket.objects.get(pk=t.pk).version
    assert timers_warn_due() == 1
    assert timers_warn_due() == 0
    (warning,) = TicketEvent.objects.filter(ticket=t, kind="timer_warning")
    assert warning.public and warning.actor_kind == "system" and warning.channel == "system"
    assert warning.data == {
        "timer": "quiet_close",
        "transition": "auto_close",
        "due_at": (clock() + timedelta(days=2)).isoformat(),
    }
    # news, not a change: nobody's open form goes stale because of it
    assert Ticket.objects.get(pk=t.pk).version == version
    # an unrelated change keeps the due time, and so the warning stays given
    services.comment_add(actor=world.agent, ticket=t, body="internal", internal=True)
    assert timers_warn_due() == 0
    # a public answer moves the due time: a new warning when that one comes near
    services.comment_add(actor=world.agent, ticket=t, body="Any news?")
    assert TicketTimer.objects.get(ticket=t).warned_at is None
    clock.advance(days=5)
    run_once()
    assert TicketEvent.objects.filter(ticket=t, kind="timer_warning").count() == 2
    clock.advance(days=2)
    run_once()
    t.refresh_from_db()
    assert t.status == "closed"


def test_no_warning_once_the_timer_is_due(world, ticket, clock):
    from casedesk.tickets.timers import timers_warn_due

    t = resolved(world, ticket)
    clock.advance(days=8)  # the worker was down through the whole warning window
    assert timers_warn_due() == 0
    run_once()
    assert not TicketEvent.objects.filter(ticket=t, kind="timer_warning").exists()


def test_a_timer_whose_firing_fails_is_retried_then_held_and_others_still_fire(
    world, clock, settings, monkeypatch
):
    """A firing that raises (not a refusal: an error) rolls back, is counted and waits on
    the jobs' schedule, then is held for staff; the timers due after it fire meanwhile."""
    from casedesk.jobs.queue import job_retry, retry_delay
    from casedesk.tickets import timers

    settings.CASEDESK_TIMER_MAX_ATTEMPTS = 2
    first = resolved(world, services.ticket_create(actor=world.alice, desk=world.desk, title="a"))
    clock.advance(minutes=1)
    second = resolved(world, services.ticket_create(actor=world.alice, desk=world.desk, title="b"))
    real_move = timers.TicketChange.move

    def move(change, *args, **kwargs):
        if change.ticket.pk == first.pk:
            raise ValueError("unknown time zone")
        return real_move(change, *args, **kwargs)

    monkeypatch.setattr(timers.TicketChange, "move", move)
    clock.advance(days=8)
    assert timers_fire_due() == 1
    second.refresh_from_db()
    assert second.status == "closed"
    timer = TicketTimer.objects.get(ticket=first)
    assert timer.attempts == 1 and "unknown time zone" in timer.last_error
    assert timer.due_at == clock() + retry_delay(1) and timer.held_at is None
    assert not TicketEvent.objects.filter(ticket=first, actor_kind="system").exists()
    clock.advance(minutes=1)
    assert timers_fire_due() == 0
    timer.refresh_from_db()
    assert timer.attempts == 2 and timer.held_at == clock()
    clock.advance(days=30)
    assert timers_fire_due() == 0  # held: passed over, not tried
    monkeypatch.setattr(timers.TicketChange, "move", real_move)
    assert job_retry(queue=timers.QUEUE, ids=[first.pk]) == 1
    assert timers_fire_due() == 1
    first.refresh_from_db()
    assert first.status == "closed"
