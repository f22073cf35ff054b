"""Everyone sees the clock: the customer's promise and pause, staff's business time."""

from django.urls import reverse

from casedesk.sla import services as sla
from casedesk.sla.models import TicketClock
from casedesk.tickets import services
from tests.helpers import fresh


def page(client, user, key, face="portal"):
    client.force_login(user)
    return client.get(reverse(f"{face}:ticket", args=[key])).content.decode()


def test_the_customer_sees_when_we_aim_to_answer_and_the_hours_behind_it(
    client, world, sla_desk, clock
):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    html = page(client, world.alice, ticket.key)
    assert "We aim to answer by" in html and "We aim to resolve this by" in html
    assert "Europe/Amsterdam" in html and "08:00-17:00" in html


def test_a_paused_clock_says_why_and_since_when(client, world, sla_desk, clock):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="ask_customer", comment="Which one?"
    )
    html = page(client, world.alice, ticket.key)
    assert "Our clock is paused since" in html
    assert "Answered in time." in html


def test_a_desk_may_show_customers_only_whether_targets_are_met(client, world, sla_desk, clock):
    sla.calendar_set(
        actor=world.admin,
        desk=sla_desk,
        zone="Europe/Amsterdam",
        week={d: [("08:00", "17:00")] for d in range(5)},
        customers_see_times=False,
    )
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    html = page(client, world.alice, ticket.key)
    assert "Our targets for this case are met so far." in html
    assert "We aim to" not in html and "08:00-17:00" not in html
    staff = page(client, world.agent, ticket.key, "agent")
    assert "0 h 00 min used of 1 h 00 min" in staff


def test_staff_see_used_and_remaining_business_time(client, world, sla_desk, clock):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    clock.advance(minutes=90)
    html = page(client, world.agent, fresh(ticket).key, "agent")
    assert "0 h 30 min over the target of 1 h 00 min" in html  # the first response
    assert "1 h 30 min used of 8 h 00 min, 6 h 30 min left." in html
    assert "Breached" in html


def test_in_danish(client, world, sla_desk, clock):
    world.alice.language = "da"
    world.alice.save()
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    html = page(client, world.alice, ticket.key)
    assert "We aim to answer by" not in html and "Europe/Amsterdam" in html


def test_the_clock_card_costs_the_same_statements_for_one_clock_or_many(
    client, world, sla_desk, clock
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    client.force_login(world.agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("agent:ticket", args=[ticket.key]))
        return len(ctx.captured_queries)

    client.get(reverse("agent:ticket", args=[ticket.key]))  # warm the session
    few = count()
    for _ in range(4):  # each answered customer message is a clock of its own
        clock.advance(minutes=5)
        services.comment_add(actor=world.agent, ticket=fresh(ticket), body="reply")
        clock.advance(minutes=5)
        services.comment_add(actor=world.alice, ticket=fresh(ticket), body="more")
    assert TicketClock.objects.filter(ticket=ticket).count() >= 6
    # comments and history have their own fixed reads; the clocks add none per clock
    assert count() == few
