"""The workflow's rules hold through the API (SECURITY-TESTS B: T11, T13-T17)."""

from __future__ import annotations

import pytest

from casedesk.desks.services import preset_names
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent
from casedesk.workflow.spec import CUSTOMER_ROLES, expand_roles
from tests.conftest import make_desk
from tests.helpers import version

from .conftest import Api

CUSTOMER_SIDE = {*CUSTOMER_ROLES, "reporter", "customer_assignee"}


def snapshot(ticket):
    t = Ticket.objects.get(pk=ticket.pk)
    return (t.status, t.sub_status, t.version, TicketEvent.objects.filter(ticket=t).count())


@pytest.mark.parametrize("preset", preset_names())
def test_a_customer_never_makes_a_staff_or_system_transition(world, preset):
    """Every transition of every preset that no customer-side role may make, attempted by
    the reporter on their own ticket, with everything it could need: refused, unchanged."""
    desk = make_desk(preset, "PRE", [world.org_a], {world.agent: "agent"})
    wf = desk.workflow.workflow
    kind = next(k for k, t in wf.types.items() if t.customer_may_create)
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="mine", type=kind)
    alice = Api(world.alice)
    staff_only = [
        key for key, t in wf.transitions.items() if not (expand_roles(t.by) & CUSTOMER_SIDE)
    ]
    assert staff_only
    for key in staff_only:
        before = snapshot(ticket)
        body = {
            "transition": key,
            "comment": "let me",
            "fields": {name: "1" for name in wf.fields if wf.fields[name].customer_editable},
            "assignee": world.agent.pk,
            "customer_assignee": world.alice.pk,
        }
        response = alice.post(f"tickets/{ticket.key}/transitions", body)
        assert response.status_code in (403, 422), (key, response.content)
        assert response.json()["kind"] in ("transition_refused", "invalid", "forbidden")
        assert snapshot(ticket) == before, key


def test_refusals_say_why_in_machine_terms(world, ticket):
    alice, agent = Api(world.alice), Api(world.agent)
    cases = [
        (alice, {"transition": "resolve", "comment": "x"}, 403, "role"),
        (alice, {"transition": "confirm"}, 422, "wrong_status"),
        (agent, {"transition": "no_such_thing"}, 422, "unknown_transition"),
        (agent, {"transition": "ask_customer"}, 422, "requirement"),
    ]
    for caller, body, status, reason in cases:
        response = caller.post(
            f"tickets/{ticket.key}/transitions", {**body, "version": version(ticket)}
        )
        assert (response.status_code, response.json()["reason"]) == (status, reason), body
    missing = agent.post(
        f"tickets/{ticket.key}/transitions", {"version": version(ticket), "transition": "start"}
    )
    assert missing.json()["missing"] == ["assignee"]
    assert snapshot(ticket)[2] == 1


def test_customers_cannot_write_internal_notes_or_staff_changes(world, ticket):
    """T14: a customer's token may write, but not what only staff may."""
    alice = Api(world.alice)
    before = snapshot(ticket)
    note = alice.post(
        f"tickets/{ticket.key}/comments",
        {"version": version(ticket), "body": "x", "internal": True},
    )
    assert note.status_code == 403
    internal = alice.post(
        f"tickets/{ticket.key}/transitions",
        {
            "version": version(ticket),
            "transition": "cancel",
            "comment": "x",
            "comment_internal": True,
        },
    )
    assert internal.status_code == 403
    for path, body, status in (
        ("", {"priority": "urgent"}, 403),
        # a customer does not see staff as people: "no such person" comes first
        ("/assignee", {"person": world.agent.pk}, 422),
        ("/team", {"team": "support"}, 403),
        ("/customer-assignee", {"person": world.amir.pk}, 403),  # organisation admins only
    ):
        method = alice.patch if not path else alice.put
        answer = method(f"tickets/{ticket.key}{path}", {**body, "version": version(ticket)})
        assert answer.status_code == status, path
    assert snapshot(ticket) == before
    ada = Api(world.ada)
    named = ada.put(
        f"tickets/{ticket.key}/customer-assignee",
        {"version": version(ticket), "person": world.amir.pk},
    )
    assert named.status_code == 200 and named.json()["customer_assignee"]["id"] == world.amir.pk


def test_a_stale_transition_is_a_409_and_moves_nothing(world, ticket):
    """T16: the agent read version 1; meanwhile the customer commented."""
    agent = Api(world.agent)
    etag = agent.get(f"tickets/{ticket.key}")["ETag"]
    Api(world.alice).post(
        f"tickets/{ticket.key}/comments", {"version": version(ticket), "body": "any news?"}
    )
    stale = agent.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "resolve", "comment": "done"},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert Ticket.objects.get().status == "new"
    bad = agent.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "resolve", "comment": "done", "version": 3},
        headers={"If-Match": '"2"'},
    )
    assert bad.status_code == 422 and "version" in bad.json()["errors"]
    garbage = agent.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "resolve", "comment": "done"},
        headers={"If-Match": "*; DROP"},
    )
    assert garbage.status_code == 422 and "If-Match" in garbage.json()["errors"]


def test_a_transition_of_another_workflow_is_unknown_here(world, ticket):
    """T17: keys of another desk's workflow mean nothing on this ticket."""
    response = Api(world.agent).post(
        f"tickets/{ticket.key}/transitions",
        {"version": version(ticket), "transition": "send_for_approval"},
    )
    assert response.status_code == 422 and response.json()["reason"] == "unknown_transition"


def test_every_change_names_the_version_it_was_based_on(world, ticket):
    """Without If-Match or `version` a change is refused with 428; a version that is not
    one is refused as input; another organisation's ticket is still only 'not found'."""
    agent, bob = Api(world.agent), Api(world.bob)
    before = snapshot(ticket)
    changes = [
        ("post", "/transitions", {"transition": "start", "assignee": world.agent.pk}),
        ("post", "/comments", {"body": "x"}),
        ("patch", "", {"priority": "high"}),
        ("put", "/assignee", {"person": world.agent.pk}),
    ]
    for method, path, body in changes:
        call = getattr(agent, method)
        answer = call(f"tickets/{ticket.key}{path}", body)
        assert answer.status_code == 428 and answer.json()["kind"] == "version_required", path
        for bad in (-1, 0, "abc", 1.5):
            assert call(f"tickets/{ticket.key}{path}", {**body, "version": bad}).status_code == 422
        assert getattr(bob, method)(f"tickets/{ticket.key}{path}", body).status_code == 404
    assert snapshot(ticket) == before
