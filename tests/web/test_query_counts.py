"""Every page costs a fixed, small number of SQL statements, whatever the data holds:
measured with a little data and with much more, and the two counts must be equal."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.desks.models import Team
from casedesk.sheets.models import WorkKind
from casedesk.sheets.services import work_correct, work_log
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from tests.conftest import make_customer, make_staff

# the most statements each page may take (session and user included; a customer's
# organisation is read with the user, and a list's names with its tickets)
# The ticket pages read the service sheet and the SLA clocks (one statement without clocks,
# two with them); the guide reads the desk's service levels (one without, five with:
# tests/sla/test_pages.py), the hour estimate (one statement) and the quotes (one statement,
# however many there are).
BUDGET = {
    "portal_list": 3,
    "portal_list_inactive": 3,
    "agent_queue_active": 5,
    "portal_ticket": 15,
    "agent_queue": 5,
    "agent_ticket": 23,
    "guide": 5,
    "workflow": 4,
    "portal_create": 3,
}


def _grow(world, ticket, n: int) -> None:
    """Add n tickets, people, comments, files, logged work and history of every kind."""
    team = Team.objects.get(desk=world.desk, slug="support")
    kind, _ = WorkKind.objects.get_or_create(desk=world.desk, slug="support")
    for i in range(n):
        reporter = make_customer(f"extra{n}_{i}", world.org_a)
        staff = make_staff(f"staff{n}_{i}")
        world.desk.staff.create(user=staff, role="agent")
        t = services.ticket_create(actor=reporter, desk=world.desk, title=f"Extra {i}")
        services.ticket_assign(actor=world.agent, ticket=t, assignee=staff)
        services.ticket_route(actor=world.agent, ticket=t, team=team)
        services.comment_add(
            actor=reporter,
            ticket=ticket,
            body=f"more {i}",
            attachments=[BytesUpload("a.txt", b"x")],
        )
        services.comment_add(actor=staff, ticket=ticket, body=f"note {i}", internal=True)
        services.ticket_assign(actor=world.agent, ticket=ticket, assignee=staff)
        services.ticket_assign_customer(actor=world.agent, ticket=ticket, person=reporter)
        services.participant_add(actor=world.agent, ticket=ticket, person=reporter)
        other = services.ticket_create(actor=reporter, desk=world.desk, title=f"Link {i}")
        services.ticket_link(actor=world.agent, ticket=ticket, other=other)
        entry = work_log(
            actor=staff, ticket=ticket, minutes=30, description=f"work {i}", kind=kind.slug
        )
        work_correct(actor=world.agent, entry_id=entry.pk, minutes=20, description=f"less {i}")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _pages(world, ticket):
    return {
        "portal_list": (world.alice, "/portal/?state=any"),
        "portal_ticket": (world.alice, f"/portal/t/{ticket.key}/"),
        "portal_create": (world.alice, f"/portal/new/?desk={world.desk.pk}"),
        "agent_queue": (world.agent, "/agent/?queue=all&state=any"),
        "portal_list_inactive": (world.alice, "/portal/?state=any&activity=inactive"),
        "agent_queue_active": (world.agent, "/agent/?queue=all&state=any&activity=active"),
        "agent_ticket": (world.agent, f"/agent/t/{ticket.key}/"),
        "guide": (world.alice, f"/portal/guide/{world.desk.pk}/"),
        "workflow": (world.agent, f"/agent/desks/{world.desk.pk}/workflow/"),
    }


def test_pages_take_a_fixed_number_of_queries(client, world, ticket):
    _grow(world, ticket, 1)
    small = {}
    for name, (user, url) in _pages(world, ticket).items():
        client.force_login(user)
        _count(client, url)  # warm the compiled workflow cache
        small[name] = _count(client, url)
    _grow(world, ticket, 12)
    for name, (user, url) in _pages(world, ticket).items():
        client.force_login(user)
        large = _count(client, url)
        assert large == small[name], (
            f"{name}: {small[name]} queries with little data, {large} with more"
        )
        assert large <= BUDGET[name], f"{name}: {large} queries, budget {BUDGET[name]}"


@pytest.mark.parametrize("n", [3])
def test_history_and_conversation_really_grew(client, world, ticket, n):
    """The data above reaches the page (so the counts measure something)."""
    _grow(world, ticket, n)
    client.force_login(world.agent)
    page = client.get(f"/agent/t/{ticket.key}/").content.decode()
    assert page.count("note ") >= n and page.count("Link ") >= n
    assert page.count("less ") >= n and page.count("<del>work ") >= n
