"""Several workers over the same due clocks, on PostgreSQL: each warning and each breach
happens once (SKIP LOCKED on the ticket, the clock re-read under its lock)."""

import pytest

from casedesk.sla import services as sla
from casedesk.sla.firing import sla_breaches_fire, sla_fire_due, sla_warnings_fire
from casedesk.sla.models import TicketClock
from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from tests.conftest import make_desk
from tests.tickets.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sweep_until_done() -> int:
    done = 0
    for _ in range(5):
        fired = sla_fire_due()
        if not fired:
            return done
        done += fired
    raise AssertionError("a sweep kept finding work")


def test_several_workers_fire_each_warning_and_breach_exactly_once(world, clock):
    desk = make_desk("assu", "RACE", [world.org_a], {world.agent: "agent"})
    sla.calendar_set(actor=world.admin, desk=desk, zone="UTC", always=True)
    sla.plan_save(
        actor=world.admin,
        desk=desk,
        slug="std",
        name="Std",
        desk_default=True,
        targets={
            p: {"first_response": 30, "resolution": 60} for p in desk.workflow.workflow.priorities
        },
    )
    tickets = [
        services.ticket_create(actor=world.alice, desk=desk, title=f"t{i}") for i in range(12)
    ]
    clock.advance(minutes=50)  # every warning due (80 % of both), first responses breached
    results = race(*[sla_fire_due for _ in range(4)], lambda: sla_warnings_fire(batch=3))
    assert not [r for r in results if isinstance(r, Exception)], results
    # a worker passes over a ticket another one holds; the next sweep takes what is left
    later = sweep_until_done()
    # a first response past its warning and its breach may get either first, never both
    # twice: the sum of what the workers did is what the rows say was done
    first_warned = TicketClock.objects.filter(
        target="first_response", warned_at__isnull=False
    ).count()
    assert sum(results) + later == 12 + 12 + first_warned
    clock.advance(minutes=15)  # resolution breached too
    results = race(*[sla_breaches_fire for _ in range(4)], lambda: sla_breaches_fire(batch=5))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) + sweep_until_done() == 12
    rows = TicketClock.objects.filter(ticket__in=tickets)
    assert rows.count() == 24
    assert all(r.breach_fired_at is not None for r in rows)
    assert rows.filter(target="resolution", warned_at__isnull=False).count() == 12
    escalations = TicketEvent.objects.filter(ticket__in=tickets, kind="transition")
    # the first response breach escalates each ticket once; the resolution breach finds
    # it escalated already, and the workflow makes no second move
    assert escalations.count() == 12
