"""Every read in `casedesk.tickets.selectors`, asked by someone who may read nothing: an
anonymous visitor, an unsaved user, and a customer and a staff member (and a superuser)
who were deactivated. Each gets NotFound or an empty answer, even for a ticket object that
an earlier read already checked, and `Ticket.objects.visible_to` gives them no row."""

from __future__ import annotations

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from casedesk.accounts.models import User
from casedesk.common.errors import NotFound
from casedesk.tickets import selectors, services
from casedesk.tickets.models import Ticket

READS = {
    "ticket_get_for_actor": lambda u, t: selectors.ticket_get_for_actor(user=u, key=t.key),
    "ticket_page_for_actor": lambda u, t: selectors.ticket_page_for_actor(user=u).tickets,
    "ticket_rows_for_actor": lambda u, t: selectors.ticket_rows_for_actor(user=u).tickets,
    "ticket_list_for_actor": lambda u, t: selectors.ticket_list_for_actor(user=u),
    "next_step_for": lambda u, t: selectors.next_step_for(user=u, ticket=t, lang="en"),
    "comments_for": lambda u, t: selectors.comments_for(user=u, ticket=t),
    "history_for": lambda u, t: selectors.history_for(user=u, ticket=t),
    "field_names_for": lambda u, t: selectors.field_names_for(user=u, wf=t.workflow.workflow),
    "fields_for": lambda u, t: selectors.fields_for(user=u, ticket=t),
    "attachments_for": lambda u, t: selectors.attachments_for(user=u, ticket=t),
    "participants_for": lambda u, t: selectors.participants_for(user=u, ticket=t),
    "links_for": lambda u, t: selectors.links_for(user=u, ticket=t),
    "desk_for_user": lambda u, t: selectors.desk_for_user(user=u, desk_id=t.desk_id),
    "desks_for_user": lambda u, t: list(selectors.desks_for_user(user=u)),
    "people_named_in": lambda u, t: selectors.people_named_in(
        user=u, ticket=t, ids=[t.reporter_id]
    ),
    "attach_people": lambda u, t: selectors.attach_people(user=u, ticket=t, known={}),
    "desk_staff_for": lambda u, t: selectors.desk_staff_for(user=u, desk=t.desk),
    "desk_teams_for": lambda u, t: selectors.desk_teams_for(user=u, desk=t.desk),
    "organisation_people_for": lambda u, t: selectors.organisation_people_for(user=u, ticket=t),
    "customers_for_desk": lambda u, t: selectors.customers_for_desk(user=u, desk=t.desk),
    "customer_for_desk": lambda u, t: selectors.customer_for_desk(
        user=u, desk=t.desk, username=t.reporter.username
    ),
    "team_ids_of": lambda u, t: selectors.team_ids_of(user=u),
    "ticket_ensure_visible": lambda u, t: selectors.ticket_ensure_visible(user=u, ticket=t),
    "tickets_visible_to": lambda u, t: selectors.tickets_visible_to(user=u, tickets=[t]),
}
# read nothing: they answer from a ticket row the caller already read through a selector
NOT_A_READ = {"turn_is_mine", "people_missing"}


def test_every_read_of_the_module_is_tried_here():
    public = {
        name
        for name, value in vars(selectors).items()
        if inspect.isfunction(value)
        and value.__module__ == selectors.__name__
        and not name.startswith("_")
    }
    assert public - NOT_A_READ == set(READS)


def _nobody(world, who: str):
    """The person, and whether they could read the ticket before (to check it first)."""
    if who == "anonymous":
        return AnonymousUser(), None
    if who == "unsaved":
        return User(username="ghost", kind="customer", organisation=world.org_a), None
    person = {"customer": world.alice, "staff": world.lead, "superuser": world.admin}[who]
    return person, person


# Reads that answer with a collection rather than take a ticket or a desk: they must be
# empty. Every other read must raise NotFound.
COLLECTIONS = {
    "ticket_page_for_actor",
    "ticket_rows_for_actor",
    "ticket_list_for_actor",
    "desks_for_user",
    "team_ids_of",
    "field_names_for",
    "tickets_visible_to",
}
# Reads for staff only: an active customer is refused them too, so for a customer they
# prove nothing about deactivation and are only tried on the others.
STAFF_ONLY = {
    "desk_staff_for",
    "desk_teams_for",
    "customers_for_desk",
    "customer_for_desk",
    "team_ids_of",
}


@pytest.fixture
def busy_ticket(world, ticket):
    services.comment_add(actor=world.alice, ticket=ticket, body="still smoking")
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    team = world.desk.teams.first()
    team.members.add(world.lead, world.admin)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.parametrize("who", ["anonymous", "unsaved", "customer", "staff", "superuser"])
@pytest.mark.parametrize("read", sorted(READS))
def test_nobody_reads_anything(world, busy_ticket, who, read):
    person, before = _nobody(world, who)
    call = READS[read]
    ticket = busy_ticket
    if before is not None and not (who == "customer" and read in STAFF_ONLY):
        # While active they may read it (and a list is not empty), so what follows shows
        # the deactivation refused them; the ticket object they read carries the mark of
        # that earlier check, which must not let them through afterwards.
        ticket = selectors.ticket_get_for_actor(user=before, key=busy_ticket.key)
        answer = call(before, ticket)
        if read in COLLECTIONS - {"field_names_for"}:
            assert answer
        before.is_active = False
        before.save()
    if read in COLLECTIONS:
        assert not call(person, ticket)
    else:
        with pytest.raises(NotFound):
            call(person, ticket)


@pytest.mark.parametrize("who", ["anonymous", "unsaved", "customer", "staff", "superuser"])
def test_visible_to_gives_nobody_a_row(world, busy_ticket, who):
    person, before = _nobody(world, who)
    if before is not None:
        assert Ticket.objects.visible_to(before).filter(pk=busy_ticket.pk).exists()
        before.is_active = False
        before.save()
    assert not Ticket.objects.visible_to(person).exists()


@pytest.mark.parametrize("who", ["anonymous", "unsaved", "customer", "staff", "superuser"])
def test_it_is_never_nobody_s_turn(world, busy_ticket, who):
    person, before = _nobody(world, who)
    if before is not None:
        before.is_active = False
        before.save()
    assert selectors.turn_is_mine(user=person, ticket=busy_ticket) is False
