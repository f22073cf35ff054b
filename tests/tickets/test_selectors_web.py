"""Reads the web pages need: each scoped to the viewer like every other selector."""

from __future__ import annotations

import pytest

from casedesk.common.errors import NotFound
from casedesk.desks.models import Team
from casedesk.tickets import selectors, services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.search import TicketFilters


def test_attachments_hide_internal_files_from_customers(world, ticket):
    services.comment_add(
        actor=world.agent,
        ticket=ticket,
        body="internal",
        internal=True,
        attachments=[BytesUpload("secret.txt", b"CANARY")],
    )
    services.attachment_add(
        actor=world.alice, ticket=ticket, uploads=[BytesUpload("photo.txt", b"hello")]
    )
    assert [a.name for a in selectors.attachments_for(user=world.alice, ticket=ticket)] == [
        "photo.txt"
    ]
    assert len(selectors.attachments_for(user=world.agent, ticket=ticket)) == 2
    with pytest.raises(NotFound):
        selectors.attachments_for(user=world.bob, ticket=ticket)


def test_links_name_only_tickets_the_viewer_may_see(world, ticket):
    bobs = services.ticket_create(actor=world.bob, desk=world.desk, title="B")
    mine = services.ticket_create(actor=world.amir, desk=world.desk, title="A2")
    services.ticket_link(actor=world.agent, ticket=ticket, other=bobs)
    services.ticket_mark_duplicate(actor=world.agent, ticket=mine, original=ticket)
    for_alice = selectors.links_for(user=world.alice, ticket=ticket)
    assert [(r.reads_as, r.other.key) for r in for_alice] == [("duplicate_added", mine.key)]
    for_agent = {
        (r.reads_as, r.other.key) for r in selectors.links_for(user=world.agent, ticket=ticket)
    }
    assert for_agent == {("relates_to", bobs.key), ("duplicate_added", mine.key)}
    assert [r.reads_as for r in selectors.links_for(user=world.alice, ticket=mine)] == [
        "duplicate_of"
    ]


def test_staff_pickers_are_for_staff_of_the_desk(world, ticket):
    assert {u.username for u in selectors.desk_staff_for(user=world.agent, desk=world.desk)} == {
        "agent",
        "lead",
    }
    for outsider in (world.alice, world.outsider):
        with pytest.raises(NotFound):
            selectors.desk_staff_for(user=outsider, desk=world.desk)
        with pytest.raises(NotFound):
            selectors.customers_for_desk(user=outsider, desk=world.desk)
    people = selectors.organisation_people_for(user=world.agent, ticket=ticket)
    assert {u.username for u in people} == {"alice", "amir", "anna", "ada"}


def test_customer_lookup_is_exact_and_limited_to_the_desk(world):
    found = selectors.customer_for_desk(user=world.agent, desk=world.desk, username="ALICE")
    assert found == world.alice
    assert selectors.customer_for_desk(
        user=world.agent, desk=world.desk, username="bob@example.org"
    ) == (world.bob)
    with pytest.raises(NotFound):
        selectors.customer_for_desk(user=world.agent, desk=world.desk, username="ali")
    with pytest.raises(NotFound):  # bob's organisation does not use the other desk
        selectors.customer_for_desk(user=world.outsider, desk=world.other_desk, username="bob")
    assert {
        u.username
        for u in selectors.customers_for_desk(user=world.agent, desk=world.desk, text="a")
    } >= {"alice", "amir"}


def test_my_teams_queue(world, ticket):
    team = Team.objects.get(desk=world.desk, slug="support")
    team.members.add(world.agent)
    other = services.ticket_create(actor=world.alice, desk=world.desk, title="elsewhere")
    services.ticket_route(actor=world.lead, ticket=ticket, team=team)
    teams = selectors.team_ids_of(user=world.agent)
    assert teams == (team.pk,)
    page = selectors.ticket_page_for_actor(user=world.agent, filters=TicketFilters(teams=teams))
    assert [t.key for t in page.tickets] == [ticket.key]
    assert other.key not in [t.key for t in page.tickets]
    assert selectors.team_ids_of(user=world.alice) == ()
