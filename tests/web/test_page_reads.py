"""What the ticket and sheet pages keep while one page is drawn must not outlive it: the
viewer's desks and roles (casedesk.desks.roles) are read once per page, and a change to
them shows on the very next page in the same process."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.desks import roles
from casedesk.desks.models import StaffMembership
from casedesk.tickets import selectors, services
from casedesk.tickets.bridge import actor_for
from casedesk.tickets.models import Ticket


def _membership_reads(queries) -> int:
    return sum('FROM "desks_staffmembership"' in q["sql"] for q in queries.captured_queries)


def test_the_agent_ticket_page_reads_the_viewer_s_desks_and_roles_once(client, world, ticket):
    client.force_login(world.agent)
    client.get(f"/agent/t/{ticket.key}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/agent/t/{ticket.key}/").status_code == 200
    assert _membership_reads(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/tickets/{ticket.key}/sheet/").status_code == 200
    assert _membership_reads(queries) == 1


def test_a_role_taken_away_shows_on_the_next_page(client, world, ticket):
    client.force_login(world.agent)
    assert client.get(f"/agent/t/{ticket.key}/").status_code == 200
    StaffMembership.objects.filter(user=world.agent, desk=world.desk).delete()
    assert client.get(f"/agent/t/{ticket.key}/").status_code == 404
    assert client.get(f"/tickets/{ticket.key}/sheet/").status_code == 404
    StaffMembership.objects.create(user=world.agent, desk=world.desk, role="lead")
    assert client.get(f"/agent/t/{ticket.key}/").status_code == 200


def test_a_changed_role_is_seen_after_the_block_and_never_by_another_person(world, ticket):
    agent_row = StaffMembership.objects.get(user=world.agent, desk=world.desk)
    with roles.read_once():
        assert actor_for(world.agent, world.desk).role == "agent"
        assert actor_for(world.lead, world.desk).role == "lead"  # their own read, not agent's
        with CaptureQueriesContext(connection) as queries:
            assert actor_for(world.agent, world.desk).role == "agent"
            assert Ticket.objects.visible_to(world.agent).filter(pk=ticket.pk).exists()
        assert _membership_reads(queries) == 0
    agent_row.role = "admin"
    agent_row.save()
    assert actor_for(world.agent, world.desk).role == "admin"
    with roles.read_once():
        assert actor_for(world.agent, world.desk).role == "admin"
    # outside a block every question reads again
    with CaptureQueriesContext(connection) as queries:
        actor_for(world.agent, world.desk)
        actor_for(world.agent, world.desk)
    assert _membership_reads(queries) == 2


def test_a_ticket_s_links_hide_tickets_the_viewer_may_not_see(world, ticket):
    """Links are read by this ticket alone; the other ends are then checked by key."""
    mine = services.ticket_create(actor=world.alice, desk=world.desk, title="Mine too")
    theirs = services.ticket_create(actor=world.bob, desk=world.desk, title="Org B's")
    elsewhere = services.ticket_create(actor=world.alice, desk=world.other_desk, title="Other")
    services.ticket_link(actor=world.agent, ticket=ticket, other=mine)
    services.ticket_link(actor=world.agent, ticket=theirs, other=ticket)
    services.ticket_link(actor=world.admin, ticket=elsewhere, other=ticket)

    def others(user):
        found = selectors.ticket_get_for_actor(user=user, key=ticket.key)
        return {v.other.pk for v in selectors.links_for(user=user, ticket=found)}

    assert others(world.admin) == {mine.pk, theirs.pk, elsewhere.pk}
    assert others(world.agent) == {mine.pk, theirs.pk}
    assert others(world.alice) == {mine.pk, elsewhere.pk}
    StaffMembership.objects.create(user=world.agent, desk=world.other_desk, role="agent")
    assert others(world.agent) == {mine.pk, theirs.pk, elsewhere.pk}


def test_each_visibility_rule_reads_the_same_tickets_prepared_or_not(world, ticket, monkeypatch):
    """The ticket and its links read by prepared statements (one per rule) and through the
    ORM (a staff member on more desks than a prepared read has parameters for) agree."""
    from casedesk.accounts.models import User
    from casedesk.common.errors import NotFound
    from casedesk.tickets import selectors as module

    mine = services.ticket_create(actor=world.alice, desk=world.desk, title="Mine too")
    theirs = services.ticket_create(actor=world.bob, desk=world.desk, title="Org B's")
    elsewhere = services.ticket_create(actor=world.alice, desk=world.other_desk, title="Other")
    services.ticket_link(actor=world.agent, ticket=ticket, other=mine)
    services.ticket_link(actor=world.agent, ticket=theirs, other=ticket)
    services.ticket_link(actor=world.admin, ticket=elsewhere, other=ticket)
    names = ("admin", "agent", "ada", "alice", "amir")

    def seen():
        found = {}
        for name in names:
            user = User.objects.get(pk=getattr(world, name).pk)  # as a new request has it
            try:
                t = selectors.ticket_get_for_actor(user=user, key=ticket.key)
            except NotFound:
                found[name] = None
                continue
            found[name] = {v.other.pk for v in selectors.links_for(user=user, ticket=t)}
        return found

    everyone = {mine.pk, theirs.pk, elsewhere.pk}
    organisation = {mine.pk, elsewhere.pk}
    expected = {
        "admin": everyone,  # every ticket
        "agent": {mine.pk, theirs.pk},  # their desks
        "ada": organisation,  # the organisation's admin: all of its tickets
        "alice": organisation,  # members see the organisation's tickets
        "amir": organisation,
    }
    assert seen() == expected
    monkeypatch.setattr(module, "_MOST_PARAMETERS", 0)
    assert seen() == expected
    monkeypatch.undo()
    world.org_a.members_see_all_tickets = False
    world.org_a.save()
    expected.update(amir=None)  # now members see their own tickets only
    assert seen() == expected
    monkeypatch.setattr(module, "_MOST_PARAMETERS", 0)
    assert seen() == expected
