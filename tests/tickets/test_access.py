"""Every service and read, tried by people who must not get through (SECURITY-TESTS A, B).

A ticket the person may not see is NotFound, exactly like a key that does not exist, and
no attempt changes anything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from casedesk.common.errors import Forbidden, NotFound, Problem, TransitionRefused
from casedesk.desks.models import StaffMembership, Team
from casedesk.tickets import selectors, services
from casedesk.tickets.models import Ticket, TicketEvent
from tests.helpers import state

WRITES = {
    "comment": lambda u, t, w: services.comment_add(actor=u, ticket=t, body="hi"),
    "note": lambda u, t, w: services.comment_add(actor=u, ticket=t, body="hi", internal=True),
    "transition": lambda u, t, w: services.ticket_transition(
        actor=u, ticket=t, transition="cancel", comment="x"
    ),
    "assign": lambda u, t, w: services.ticket_assign(actor=u, ticket=t, assignee=w.agent),
    "assign_customer": lambda u, t, w: services.ticket_assign_customer(
        actor=u, ticket=t, person=w.alice
    ),
    "route": lambda u, t, w: services.ticket_route(
        actor=u, ticket=t, team=Team.objects.get(desk=w.desk)
    ),
    "edit": lambda u, t, w: services.ticket_edit(actor=u, ticket=t, title="pwned"),
    "participant": lambda u, t, w: services.participant_add(actor=u, ticket=t, person=u),
    "unfollow": lambda u, t, w: services.participant_remove(actor=u, ticket=t, person=w.alice),
    "link": lambda u, t, w: services.ticket_link(actor=u, ticket=t, other=w.own),
    "duplicate": lambda u, t, w: services.ticket_mark_duplicate(actor=u, ticket=t, original=w.own),
}
READS = {
    "get": lambda u, t: selectors.ticket_get_for_actor(user=u, key=t.key),
    "list": lambda u, t: [r.ticket for r in selectors.ticket_list_for_actor(user=u)],
}


@pytest.fixture
def foreign(world):
    """Org A's ticket, and a ticket each intruder may legitimately touch (`own`)."""
    target = services.ticket_create(actor=world.alice, desk=world.desk, title="CANARY-title-A")
    services.comment_add(actor=world.agent, ticket=target, body="CANARY-note", internal=True)
    return target


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("intruder", ["bob", "outsider", "inactive", "anonymous"])
def test_no_write_reaches_a_ticket_the_person_cannot_see(world, foreign, write, intruder):
    if intruder == "anonymous":
        user = AnonymousUser()
    elif intruder == "inactive":
        user = world.amir
        user.is_active = False
        user.save()
    else:
        user = getattr(world, intruder)
    desk = world.other_desk if intruder == "outsider" else world.desk
    world.own = Ticket.objects.filter(desk=desk).exclude(
        pk=foreign.pk
    ).first() or services.ticket_create(
        actor=world.bob if intruder == "bob" else world.alice, desk=desk, title="own"
    )
    before = state(foreign)
    with pytest.raises(NotFound) as caught:
        WRITES[write](user, foreign, world)
    assert caught.value.problem == Problem("ticket.not_found")
    assert state(foreign) == before


@pytest.mark.parametrize("intruder", ["bob", "outsider"])
def test_reads_hide_foreign_tickets(world, foreign, intruder):
    user = getattr(world, intruder)
    with pytest.raises(NotFound) as caught:
        READS["get"](user, foreign)
    with pytest.raises(NotFound) as missing:
        selectors.ticket_get_for_actor(user=user, key="GEN-999")
    assert str(caught.value) == str(missing.value)  # a foreign key looks like a missing one
    assert foreign not in READS["list"](user, foreign)


@pytest.mark.parametrize("read", ["comments_for", "history_for", "next_step_for"])
@pytest.mark.parametrize("intruder", ["bob", "outsider"])
def test_reads_of_a_ticket_object_check_visibility_too(world, foreign, read, intruder):
    kwargs = {"lang": "en"} if read == "next_step_for" else {}
    with pytest.raises(NotFound):
        getattr(selectors, read)(user=getattr(world, intruder), ticket=foreign, **kwargs)
    fetched = selectors.ticket_get_for_actor(user=world.amir, key=foreign.key)
    assert getattr(selectors, read)(user=world.amir, ticket=fetched, **kwargs) is not None
    with pytest.raises(NotFound):  # the check is per person, not per object
        getattr(selectors, read)(user=world.bob, ticket=fetched, **kwargs)


def test_customers_never_see_internal_notes_or_their_history(world, foreign):
    comments = selectors.comments_for(user=world.amir, ticket=foreign)
    assert all("CANARY" not in c.body for c in comments)
    history = selectors.history_for(user=world.amir, ticket=foreign)
    assert {e.kind for e in history} == {"created"}
    assert "note" in {e.kind for e in selectors.history_for(user=world.agent, ticket=foreign)}


@pytest.mark.parametrize("write", ["note", "assign", "route", "edit", "duplicate", "link"])
def test_staff_only_changes_are_forbidden_to_customers(world, foreign, write):
    world.own = services.ticket_create(actor=world.alice, desk=world.desk, title="own")
    before = state(foreign)
    with pytest.raises(Forbidden):
        WRITES[write](world.alice, foreign, world)
    assert state(foreign) == before


def test_customer_cannot_force_staff_or_system_transitions(world, foreign):
    services.ticket_transition(
        actor=world.agent, ticket=foreign, transition="start", assignee=world.agent
    )
    services.ticket_transition(
        actor=world.agent, ticket=foreign, transition="ask_customer", comment="?"
    )
    before = state(foreign)
    for transition in (
        "resolve",
        "customer_answered",
        "auto_close",
        "reopen_closed",
        "close_duplicate",
    ):
        with pytest.raises(TransitionRefused) as caught:
            services.ticket_transition(
                actor=world.alice, ticket=foreign, transition=transition, comment="x"
            )
        assert caught.value.reason == "role", transition
    assert state(foreign) == before


def test_a_role_removed_mid_session_stops_the_next_request(world, foreign):
    services.comment_add(actor=world.agent, ticket=foreign, body="on it")
    StaffMembership.objects.filter(user=world.agent).delete()
    before = state(foreign)
    with pytest.raises(NotFound):
        services.comment_add(actor=world.agent, ticket=foreign, body="still here?")
    assert state(foreign) == before


def test_an_approver_is_more_than_a_member_but_not_staff(world, foreign):
    # org_admin may cancel a colleague's ticket; a plain colleague may not (default workflow)
    with pytest.raises(TransitionRefused):
        services.ticket_transition(
            actor=world.amir, ticket=foreign, transition="cancel", comment="no"
        )
    services.ticket_transition(
        actor=world.ada, ticket=foreign, transition="cancel", comment="not needed"
    )
    foreign.refresh_from_db()
    assert foreign.status == "cancelled"


def test_the_admin_cannot_change_workflow_state(world, foreign, client):
    client.force_login(world.admin)
    url = f"/admin/tickets/ticket/{foreign.pk}/change/"
    assert client.get(url).status_code == 200  # looking is fine
    response = client.post(url, {"status": "closed"})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=foreign.pk).status == "new"
    assert (
        client.post(
            f"/admin/tickets/ticketevent/{TicketEvent.objects.first().pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )


def test_a_desk_without_a_role_reads_like_a_desk_that_is_not_there(world):
    from casedesk.tickets.selectors import desk_for_user

    with pytest.raises(NotFound) as foreign:
        desk_for_user(user=world.outsider, desk_id=world.desk.pk)
    with pytest.raises(NotFound) as missing:
        desk_for_user(user=world.outsider, desk_id=10**9)
    assert foreign.value.problem == missing.value.problem == Problem("desk.not_found")
