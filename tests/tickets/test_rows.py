"""`ticket_rows_for_actor`, the lists' read of plain rows, finds what
`ticket_page_for_actor` finds: the same tickets in the same order with the same cursors,
for every filter and sort of the lists and for each side, and nothing of another
organisation or desk."""

from __future__ import annotations

import pytest
from django.core import signing

from casedesk.tickets import search, selectors, services
from casedesk.tickets.search import TicketFilters

FILTERS = [
    TicketFilters(),
    TicketFilters(open=True),
    TicketFilters(open=False),
    TicketFilters(sort="created"),
    TicketFilters(sort="-created"),
    TicketFilters(sort="updated"),
    TicketFilters(text="printer"),
    TicketFilters(assignee="me"),
    TicketFilters(assignee="none"),
    TicketFilters(turn="customer"),
    TicketFilters(waiting_for_me=True),
    TicketFilters(active=False),
    TicketFilters(sla="breached"),
    TicketFilters(sla="at_risk"),
]


def _cursor(signed):
    """A cursor's content (its signature carries the second it was made in)."""
    return signing.loads(signed, salt=search._SALT) if signed else None


@pytest.fixture
def tickets(world):
    made = []
    for i, who in enumerate([world.alice, world.amir, world.bob, world.alice, world.bob]):
        t = services.ticket_create(
            actor=who, desk=world.desk, title=f"Printer {i}" if i % 2 else f"Screen {i}"
        )
        made.append(t)
    services.ticket_assign(actor=world.agent, ticket=made[1], assignee=world.agent)
    services.ticket_create(actor=world.alice, desk=world.other_desk, title="Printer elsewhere")
    return made


@pytest.mark.parametrize("who", ["alice", "bob", "agent", "lead", "outsider", "admin"])
def test_rows_are_the_tickets_of_the_page_read(world, tickets, who):
    user = getattr(world, who)
    for filters in FILTERS:
        cursor = None
        for _ in range(4):  # pages of two, to follow the cursors
            page = selectors.ticket_page_for_actor(
                user=user, filters=filters, cursor=cursor, limit=2
            )
            rows = selectors.ticket_rows_for_actor(
                user=user, filters=filters, cursor=cursor, limit=2
            )
            assert [r.key for r in rows.tickets] == [t.key for t in page.tickets], filters
            assert _cursor(rows.next_cursor) == _cursor(page.next_cursor)
            for row, t in zip(rows.tickets, page.tickets, strict=True):
                assert row.organisation_name == t.organisation.name
                assert row.desk_time_zone == t.desk.time_zone
                assert row.assignee_username == (t.assignee.username if t.assignee else None)
            cursor = page.next_cursor
            if cursor is None:
                break


def test_a_customer_row_names_its_reporter(world, tickets):
    world.amir.first_name, world.amir.last_name = "Amir", "Said"
    world.amir.save()
    rows = selectors.ticket_rows_for_actor(user=world.alice, reporter=True).tickets
    named = {r.key: (r.reporter_first_name, r.reporter_username) for r in rows}
    assert named[tickets[1].key] == ("Amir", "amir")
    assert tickets[2].key not in named  # Bob's organisation


def test_the_portal_list_shows_a_renamed_reporter_at_once(client, world, tickets):
    client.force_login(world.alice)
    assert "Amir Said" not in client.get("/portal/?state=any").content.decode()
    world.amir.first_name, world.amir.last_name = "Amir", "Said"
    world.amir.save()
    assert "Amir Said" in client.get("/portal/?state=any").content.decode()
