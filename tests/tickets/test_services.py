"""The ticket services: each rule, and that a refused change leaves nothing behind."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from casedesk.common.errors import Forbidden, InvalidInput, NotFound, StaleTicket, TransitionRefused
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent, TicketLink
from tests.conftest import make_customer
from tests.helpers import state


def test_keys_are_per_desk_and_gapless(world):
    keys = [
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{i}").key
        for i in range(3)
    ]
    other = services.ticket_create(actor=world.alice, desk=world.other_desk, title="x")
    assert keys == ["GEN-1", "GEN-2", "GEN-3"]
    assert other.key == "OTH-1"
    with pytest.raises(InvalidInput):
        services.ticket_create(actor=world.alice, desk=world.desk, title="   ")
    assert services.ticket_create(actor=world.alice, desk=world.desk, title="t4").key == "GEN-4"


def test_a_new_ticket_starts_where_the_workflow_says(ticket, world, clock):
    assert (ticket.status, ticket.category, ticket.turn) == ("new", "new", "supplier")
    assert ticket.organisation == world.org_a and ticket.reporter == world.alice
    (event,) = TicketEvent.objects.filter(ticket=ticket)
    assert (event.kind, event.actor, event.channel, event.at) == (
        "created",
        world.alice,
        "web",
        clock(),
    )


def test_staff_register_a_ticket_for_a_customer_who_phoned(world):
    ticket = services.ticket_create(
        actor=world.agent, desk=world.desk, title="Phoned in", reporter=world.bob, channel="phone"
    )
    assert (ticket.reporter, ticket.created_by, ticket.organisation, ticket.channel) == (
        world.bob,
        world.agent,
        world.org_b,
        "phone",
    )
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create(actor=world.agent, desk=world.desk, title="No reporter")
    assert "reporter" in caught.value.errors
    with pytest.raises(InvalidInput):  # staff are not reporters
        services.ticket_create(actor=world.agent, desk=world.desk, title="x", reporter=world.lead)


def test_who_may_open_tickets_where(world):
    with pytest.raises(NotFound):  # Bob's organisation does not use the other desk
        services.ticket_create(actor=world.bob, desk=world.other_desk, title="x")
    with pytest.raises(NotFound):  # staff without a role on the desk
        services.ticket_create(
            actor=world.outsider, desk=world.desk, title="x", reporter=world.alice
        )
    with pytest.raises(NotFound):
        services.ticket_create(actor=AnonymousUser(), desk=world.desk, title="x")
    world.amir.is_active = False
    world.amir.save()
    with pytest.raises(NotFound):
        services.ticket_create(actor=world.amir, desk=world.desk, title="x")
    with pytest.raises(Forbidden):  # customers open tickets for themselves only
        services.ticket_create(actor=world.alice, desk=world.desk, title="x", reporter=world.amir)
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create(
            actor=world.alice,
            desk=world.desk,
            title="x",
            type="bogus",
            priority="meh",
            fields={"nope": "1"},
        )
    assert set(caught.value.errors) == {"type", "priority", "fields.nope"}
    assert not Ticket.objects.exists()


def test_refused_transitions_say_why_and_change_nothing(ticket, world):
    before = state(ticket)
    cases = [
        (world.alice, "resolve", {}, "role"),
        (world.alice, "confirm", {}, "wrong_status"),
        (world.agent, "resolve", {}, "requirement"),
        (world.agent, "teleport", {}, "unknown_transition"),
        (world.agent, "start", {}, "requirement"),
    ]
    for actor, transition, extra, reason in cases:
        with pytest.raises(TransitionRefused) as caught:
            services.ticket_transition(actor=actor, ticket=ticket, transition=transition, **extra)
        assert caught.value.reason == reason
        assert state(ticket) == before
    with pytest.raises(TransitionRefused) as caught:  # the comment is rolled back with it
        services.ticket_transition(
            actor=world.alice, ticket=ticket, transition="resolve", comment="done?"
        )
    assert caught.value.status == 403
    assert state(ticket) == before


def test_a_stale_write_is_refused(ticket, world):
    services.comment_add(actor=world.alice, ticket=ticket, body="Any news?")
    before = state(ticket)
    with pytest.raises(StaleTicket) as caught:
        services.ticket_transition(
            actor=world.agent,
            ticket=ticket,
            transition="resolve",
            comment="Fixed",
            expected_version=1,
        )
    assert caught.value.status == 409
    assert state(ticket) == before


def test_a_walk_through_the_default_workflow(ticket, world, clock):
    t = services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        transition="start",
        assignee=world.agent,
        expected_version=1,
    )
    assert (t.status, t.assignee, t.version) == ("open", world.agent, 2)
    t = services.ticket_transition(
        actor=world.agent, ticket=t, transition="ask_customer", comment="Which printer?"
    )
    assert (t.status, t.turn) == ("waiting_customer", "customer")
    clock.advance(hours=2)
    services.comment_add(actor=world.amir, ticket=t, body="The one on floor 2")  # any org member
    t.refresh_from_db()
    assert (t.status, t.awaiting_reply_since) == ("open", clock())
    transition = TicketEvent.objects.filter(ticket=t, kind="transition").last()
    assert transition.actor is None and transition.data["cause"]["event"] == "customer_commented"
    t = services.ticket_transition(
        actor=world.agent, ticket=t, transition="resolve", comment="Replaced"
    )
    assert t.awaiting_reply_since is None and t.category == "resolved"
    t = services.ticket_transition(
        actor=world.alice, ticket=t, transition="reopen", comment="Smoke again"
    )
    assert (t.status, t.cycle) == ("open", 2)
    t = services.ticket_transition(
        actor=world.agent, ticket=t, transition="resolve", comment="Really"
    )
    t = services.ticket_transition(actor=world.anna, ticket=t, transition="confirm")
    assert (t.status, t.category, t.closed_at) == ("closed", "closed", clock())
    kinds = list(TicketEvent.objects.filter(ticket=t).values_list("kind", flat=True))
    assert kinds.count("transition") == 7 and kinds[0] == "created"


def test_internal_notes_are_for_staff_only(ticket, world):
    note = services.comment_add(
        actor=world.agent, ticket=ticket, body="Customer is VIP", internal=True
    )
    assert note.internal
    event = TicketEvent.objects.get(ticket=ticket, kind="note")
    assert event.public is False
    with pytest.raises(Forbidden):
        services.comment_add(actor=world.alice, ticket=ticket, body="sneaky", internal=True)
    with pytest.raises(Forbidden):
        services.ticket_transition(
            actor=world.alice,
            ticket=ticket,
            transition="cancel",
            comment="not needed",
            comment_internal=True,
        )
    with pytest.raises(InvalidInput):
        services.comment_add(actor=world.alice, ticket=ticket, body="   ")


def test_assignment_rules(ticket, world):
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.lead)
    ticket.refresh_from_db()
    assert ticket.assignee == world.lead
    with pytest.raises(InvalidInput):  # not staff of this desk
        services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.outsider)
    with pytest.raises(InvalidInput):  # customers are not staff assignees
        services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.alice)
    with pytest.raises(Forbidden):
        services.ticket_assign(actor=world.alice, ticket=ticket, assignee=world.agent)
    services.ticket_assign_customer(actor=world.agent, ticket=ticket, person=world.amir)
    services.ticket_assign_customer(actor=world.ada, ticket=ticket, person=world.anna)  # org admin
    ticket.refresh_from_db()
    assert ticket.customer_assignee == world.anna
    with pytest.raises(InvalidInput):
        services.ticket_assign_customer(actor=world.agent, ticket=ticket, person=world.bob)
    with pytest.raises(Forbidden):  # a plain member may not
        services.ticket_assign_customer(actor=world.alice, ticket=ticket, person=world.amir)


def test_teams_fields_and_edits(ticket, world):
    from casedesk.desks.models import Team

    support = Team.objects.get(desk=world.desk, slug="support")
    services.ticket_route(actor=world.agent, ticket=ticket, team=support)
    ticket.refresh_from_db()
    assert ticket.team == support
    other_team = Team.objects.get(desk=world.other_desk, slug="support")
    with pytest.raises(NotFound):  # the outsider cannot see this desk at all
        services.ticket_route(actor=world.outsider, ticket=ticket, team=other_team)
    with pytest.raises(InvalidInput):
        services.ticket_route(actor=world.agent, ticket=ticket, team=other_team)
    services.ticket_edit(
        actor=world.agent, ticket=ticket, title="Printer on fire (floor 2)", priority="high"
    )
    ticket.refresh_from_db()
    assert (ticket.title, ticket.priority) == ("Printer on fire (floor 2)", "high")
    with pytest.raises(Forbidden):
        services.ticket_edit(actor=world.alice, ticket=ticket, priority="urgent")
    with pytest.raises(InvalidInput):
        services.ticket_edit(actor=world.agent, ticket=ticket, fields={"unknown": "x"})


def test_marking_a_duplicate_links_both_and_closes_the_duplicate(world):
    original = services.ticket_create(actor=world.alice, desk=world.desk, title="VPN down")
    dup = services.ticket_create(actor=world.amir, desk=world.desk, title="VPN not working")
    services.ticket_mark_duplicate(actor=world.agent, ticket=dup, original=original)
    dup.refresh_from_db()
    assert dup.category == "closed"
    assert TicketLink.objects.filter(source=dup, target=original, kind="duplicate_of").exists()
    assert TicketEvent.objects.filter(ticket=original, kind="duplicate_added").exists()
    with pytest.raises(InvalidInput):  # never both ways round
        services.ticket_mark_duplicate(actor=world.agent, ticket=original, original=dup)
    with pytest.raises(InvalidInput):
        services.ticket_mark_duplicate(actor=world.agent, ticket=original, original=original)
    with pytest.raises(Forbidden):
        services.ticket_mark_duplicate(
            actor=world.alice,
            ticket=original,
            original=services.ticket_create(actor=world.alice, desk=world.desk, title="z"),
        )


def test_links_and_participants(ticket, world):
    other = services.ticket_create(actor=world.bob, desk=world.desk, title="Their printer")
    link = services.ticket_link(actor=world.agent, ticket=ticket, other=other)
    assert services.ticket_link(actor=world.agent, ticket=other, other=ticket) == link  # once
    # Alice sees the link entry, but not Bob's ticket key: it is another organisation's
    event = TicketEvent.objects.get(ticket=ticket, kind="linked")
    assert event.public is False
    with pytest.raises(NotFound):  # the customer cannot even see the other ticket
        services.ticket_link(actor=world.alice, ticket=ticket, other=other)
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    with pytest.raises(InvalidInput):
        services.participant_add(actor=world.alice, ticket=ticket, person=world.bob)
    with pytest.raises(InvalidInput):  # customers do not add staff
        services.participant_add(actor=world.alice, ticket=ticket, person=world.agent)
    services.participant_add(actor=world.agent, ticket=ticket, person=world.lead)
    services.participant_remove(actor=world.amir, ticket=ticket, person=world.amir)
    assert list(ticket.participants.values_list("user__username", flat=True)) == ["lead"]


def test_sharing_off_limits_members_to_their_own_tickets(world, ticket):
    from casedesk.tickets.selectors import ticket_get_for_actor

    assert ticket_get_for_actor(user=world.amir, key="gen-1") == ticket  # sharing is on by default
    world.org_a.members_see_all_tickets = False
    world.org_a.save()
    with pytest.raises(NotFound):
        ticket_get_for_actor(user=world.amir, key="GEN-1")
    assert (
        ticket_get_for_actor(user=world.ada, key="GEN-1") == ticket
    )  # the org admin still sees it
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    assert ticket_get_for_actor(user=world.amir, key="GEN-1") == ticket
    late = make_customer("late", world.org_a)
    with pytest.raises(NotFound):
        services.comment_add(actor=late, ticket=ticket, body="hello")
