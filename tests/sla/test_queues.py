"""Queues sort by what is due first and filter missed and close targets, through the
ticket's own indexed copy of its clocks' times, in a fixed number of statements."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.common.errors import InvalidInput
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


def walk(user, limit=2, **filters) -> list[str]:
    """Every page of a list, following its cursors: the keys in page order."""
    found, cursor = [], None
    while True:
        page = selectors.ticket_page_for_actor(
            user=user, filters=TicketFilters(**filters), cursor=cursor, limit=limit
        )
        found += [t.key for t in page.tickets]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def rows_walk(user, limit=2, **filters) -> list[str]:
    """The same through the list rows the agent's queue reads."""
    found, cursor = [], None
    while True:
        page = selectors.ticket_rows_for_actor(
            user=user, filters=TicketFilters(**filters), cursor=cursor, limit=limit
        )
        found += [t.key for t in page.tickets]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _staggered(world, clock):
    """Six tickets opened ten minutes apart (the last two together, so their first
    response is due at the same instant), and the clock at 10:29 UTC: the first two
    missed and fired, the third missed but not yet fired, the other three close."""
    made = []
    for i in range(5):
        made.append(services.ticket_create(actor=world.alice, desk=world.desk, title=f"s{i}"))
        if i < 4:
            clock.advance(minutes=10)
    made.append(services.ticket_create(actor=world.amir, desk=world.desk, title="s5"))
    clock.advance(minutes=35)  # 10:15: s0 (due 10:00) and s1 (10:10) missed
    sla_fire_due()
    clock.advance(minutes=14)  # 10:29: s2 (due 10:20) missed, s3-s5 past their warning
    return made


def test_the_sla_lists_page_in_their_own_order_and_hold_the_same_tickets(world, sla_desk, clock):
    s0, s1, s2, s3, s4, s5 = _staggered(world, clock)
    assert fresh(s0).sla_breached_at is not None and fresh(s2).sla_breached_at is None
    assert fresh(s4).sla_due_at == fresh(s5).sla_due_at  # a tie, ordered by id
    missed, close = [s0.key, s1.key, s2.key], [s3.key, s4.key, s5.key]
    for limit in (1, 2, 50):
        assert walk(world.agent, limit, sla="breached", sort="missed") == missed
        assert rows_walk(world.agent, limit, sla="breached", sort="missed") == missed
        assert walk(world.agent, limit, sla="at_risk", sort="due") == close
        assert rows_walk(world.agent, limit, sla="at_risk", sort="due") == close
    # the same tickets as in any other order
    for sort in ("-updated", "created", "due"):
        assert sorted(walk(world.agent, 50, sla="breached", sort=sort)) == sorted(missed)
        assert sorted(walk(world.agent, 50, sla="at_risk", sort=sort)) == sorted(close)
    # across the boundary of "missed" alone: the missed first, then the running ones due
    assert walk(world.agent, 2, sort="missed") == missed + close
    assert rows_walk(world.agent, 4, sort="missed") == missed + close
    # a cursor of one order is refused by the other
    page = selectors.ticket_page_for_actor(
        user=world.agent, filters=TicketFilters(sla="breached", sort="missed"), limit=1
    )
    with pytest.raises(InvalidInput):
        selectors.ticket_page_for_actor(
            user=world.agent, filters=TicketFilters(sort="due"), cursor=page.next_cursor
        )


def test_a_paused_clock_past_its_target_stays_in_target_missed(world, sla_desk, clock):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="slow")
    services.comment_add(actor=world.agent, ticket=fresh(ticket), body="On it")
    clock.advance(days=1)  # Tuesday: the 8-hour resolution target missed on Monday
    sla_fire_due()
    ticket = services.ticket_transition(
        actor=world.agent, ticket=fresh(ticket), transition="ask_customer", comment="Which?"
    )
    row = fresh(ticket)
    assert row.sla_due_at is None and row.sla_breached_at is not None  # paused, missed
    assert walk(world.agent, sla="breached", sort="missed") == [ticket.key]
    assert walk(world.agent, sla="breached", sort="-updated") == [ticket.key]
    assert walk(world.agent, sla="at_risk", sort="due") == []


def test_the_sla_lists_show_each_person_only_what_they_may_see(world, sla_desk, clock):
    from casedesk.sla import services as sla_services

    from .conftest import WEEKDAYS_8_17

    sla_services.calendar_set(
        actor=world.admin, desk=world.other_desk, zone="Europe/Amsterdam", week=WEEKDAYS_8_17
    )
    sla_services.plan_save(
        actor=world.admin,
        desk=world.other_desk,
        slug="other",
        name="Other",
        targets={p: {"first_response": 30} for p in world.other_desk.workflow.workflow.priorities},
        desk_default=True,
    )
    s0, s1, s2, s3, s4, s5 = _staggered(world, clock)  # s5 is Amir's, the rest Alice's
    bobs = services.ticket_create(actor=world.bob, desk=world.desk, title="B's")
    other = services.ticket_create(actor=world.alice, desk=world.other_desk, title="other desk")
    clock.advance(hours=3)  # every one of them past its first response target
    sla_fire_due()
    mine = [s0.key, s1.key, s2.key, s3.key, s4.key, s5.key]
    desk = [*mine, bobs.key]
    cases = {
        world.agent: desk,  # the desk's agent: both organisations, not the other desk
        world.outsider: [other.key],  # the other desk's agent: that desk's ticket only
        # members see their organisation's tickets (its default), on every desk
        world.alice: [*mine, other.key],
        world.amir: [*mine, other.key],
        world.ada: [*mine, other.key],  # the organisation's admin: the organisation's tickets
        world.bob: [bobs.key],
        world.admin: [*mine, other.key, bobs.key],  # other's target is half as long
    }
    for user, expected in cases.items():
        for limit in (1, 3, 50):
            assert walk(user, limit, sla="breached", sort="missed") == expected, user
        assert sorted(walk(user, 50, sla="breached")) == sorted(expected), user
        assert walk(user, sort="missed") == expected, user
    assert other.key in walk(world.admin, 50, sort="-updated", sla="breached")
    world.org_a.members_see_all_tickets = False  # now each member sees only their own
    world.org_a.save()
    for user, expected in {
        world.alice: [*mine[:-1], other.key],
        world.amir: [s5.key],
        world.ada: [*mine, other.key],
    }.items():
        fresh_user = type(user).objects.get(pk=user.pk)
        for limit in (1, 2, 50):
            assert walk(fresh_user, limit, sla="breached", sort="missed") == expected, user
            assert rows_walk(fresh_user, limit, sla="breached", sort="missed") == expected
            assert walk(fresh_user, limit, sla="at_risk", sort="due") == [], user
    # another person's cursor is only a place in the order: what follows is still theirs
    agents = selectors.ticket_page_for_actor(
        user=world.agent, filters=TicketFilters(sla="breached", sort="missed"), limit=1
    )
    bobs_page = selectors.ticket_page_for_actor(
        user=world.bob,
        filters=TicketFilters(sla="breached", sort="missed"),
        cursor=agents.next_cursor,
    )
    assert [t.key for t in bobs_page.tickets] == [bobs.key]
    # and the API, with its cursor
    r = Api(world.bob).get("tickets?sla=breached&sort=missed&limit=1")
    assert [t["key"] for t in r.json()["items"]] == [bobs.key]
    r = Api(world.alice).get("tickets?sla=breached&sort=missed&limit=2")
    keys_seen = [t["key"] for t in r.json()["items"]]
    while r.json()["next_cursor"]:
        r = Api(world.alice).get(
            f"tickets?sla=breached&sort=missed&limit=2&cursor={r.json()['next_cursor']}"
        )
        keys_seen += [t["key"] for t in r.json()["items"]]
    assert keys_seen == [*mine[:-1], other.key]  # members see only their own now


def test_the_agent_queue_reads_the_sla_lists_in_their_order_and_says_so(
    client, world, sla_desk, clock, monkeypatch
):
    from casedesk.web import lists

    s0, s1, s2, s3, s4, s5 = _staggered(world, clock)
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    client.force_login(world.agent)
    url = "/agent/?queue=all&sla=breached&sort=-updated"
    seen = []
    while url:
        html = client.get(url).content.decode()
        assert "the target missed longest ago first" in html
        seen += [k for k in (s0.key, s1.key, s2.key, s3.key, s4.key, s5.key) if k in html]
        found = re.search(r'href="\?([^"]*cursor=[^"]*)"', html)
        url = "/agent/?" + found.group(1).replace("&amp;", "&") if found else None
    assert seen == [s0.key, s1.key, s2.key]
    html = client.get("/agent/?queue=all&sla=at_risk").content.decode()
    assert "the first due first" in html
    assert html.index(s3.key) < html.index(s4.key) and s5.key not in html  # two a page
    assert "longest ago" not in client.get("/agent/?queue=all").content.decode()
