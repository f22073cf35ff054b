"""Queues sort by what is due first and filter missed and close targets, through the
ticket's own indexed copy of its clocks' times, in a fixed number of statements."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.sla.firing import sla_fire_due
from casedesk.tickets import selectors, services
from casedesk.tickets.search import TicketFilters
from tests.api.conftest import Api
from tests.helpers import fresh


def keys(user, **filters):
    page = selectors.ticket_page_for_actor(user=user, filters=TicketFilters(**filters))
    return [t.key for t in page.tickets]


def test_due_first_breached_and_at_risk(world, sla_desk, clock):
    a = services.ticket_create(actor=world.alice, desk=sla_desk, title="a")  # due 10:00 UTC
    clock.advance(minutes=30)
    b = services.ticket_create(actor=world.alice, desk=sla_desk, title="b")  # due 10:30
    clock.advance(minutes=10)
    c = services.ticket_create(actor=world.alice, desk=sla_desk, title="c")
    services.ticket_transition(
        actor=world.agent, ticket=c, transition="resolve", comment="done at once"
    )
    assert fresh(c).sla_due_at is None
    assert keys(world.agent, sort="due") == [a.key, b.key]
    clock.advance(minutes=12)  # a at 52 min: past its 80 % warning; b at 22 min
    assert keys(world.agent, sla="at_risk") == [a.key]
    assert keys(world.agent, sla="breached") == []
    clock.advance(minutes=10)  # a past due, before the worker ran
    assert keys(world.agent, sla="breached") == [a.key]
    sla_fire_due()
    assert fresh(a).sla_breached_at is not None
    assert keys(world.agent, sla="breached") == [a.key]
    assert keys(world.bob, sla="breached") == []  # another organisation's ticket stays unseen
    r = Api(world.agent).get("tickets?sla=breached&sort=due")
    assert [t["key"] for t in r.json()["items"]] == [a.key]


def test_a_page_sorted_by_due_costs_the_same_statements_for_1_or_20_tickets(world, sla_desk, clock):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.ticket_page_for_actor(
                user=world.agent, filters=TicketFilters(sort="due", sla="at_risk")
            )
        return len(ctx.captured_queries)

    services.ticket_create(actor=world.alice, desk=sla_desk, title="first")
    clock.advance(minutes=55)
    one = count()
    for i in range(19):
        services.ticket_create(actor=world.alice, desk=sla_desk, title=f"t{i}")
    clock.advance(minutes=55)
    assert count() == one


def test_the_agent_queue_filters_by_service_level(client, world, sla_desk, clock):
    late = services.ticket_create(actor=world.alice, desk=sla_desk, title="late one")
    clock.advance(hours=2)
    services.ticket_create(actor=world.alice, desk=sla_desk, title="fresh one")
    client.force_login(world.agent)
    html = client.get("/agent/?queue=all&sla=breached&sort=due").content.decode()
    assert late.key in html and "fresh one" not in html
