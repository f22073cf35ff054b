"""A transition never lets anyone set more than they could set on its own: the assignee,
the customer-side contact and an internal note follow the same permission as setting them
directly, through every transition of every preset, for every role."""

from __future__ import annotations

import pytest

from casedesk.common.errors import CasedeskError, Forbidden
from casedesk.tickets import services
from casedesk.tickets.bridge import actor_for, set_place
from casedesk.tickets.models import Ticket
from casedesk.tickets.permissions import GIVEN_VERBS, allowed
from tests.conftest import make_customer, make_desk
from tests.helpers import state

PRESETS = ["default", "tms", "assu", "twovalue", "sda", "servisni_list"]


def _at(ticket: Ticket, status: str, sub: str) -> Ticket:
    """Put the ticket straight into a place (test set-up, not a move)."""
    wf = ticket.workflow.workflow
    set_place(ticket, wf, status, sub, ticket.updated_at)
    ticket.previous_status = ticket.previous_status or wf.initial
    ticket.awaiting_reply_since = None
    ticket.save()
    return ticket


@pytest.mark.parametrize("preset", PRESETS)
def test_every_given_field_through_every_transition_for_every_role(world, preset):
    desk = make_desk(preset, "GV", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    approver = make_customer("approver-gv", world.org_a, "approver")
    people = {
        "member": world.alice,
        "approver": approver,
        "org_admin": world.ada,
        "agent": world.agent,
        "lead": world.lead,
        "admin": world.admin,
    }
    wf = desk.workflow.workflow
    values = {
        "assignee": {"assignee": world.agent},
        "customer_assignee": {"customer_assignee": world.amir},
        "comment_internal": {"comment_internal": True},
    }
    tried = refused = 0
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="given")
    for t in wf.transitions.values():
        places = [(r.status, r.sub or "") for r in t.sources] or [(wf.initial, "")]
        status, sub = places[0]
        for role, user in people.items():
            who = actor_for(user, desk)
            for name, extra in values.items():
                ticket = _at(Ticket.objects.get(pk=ticket.pk), status, sub)
                before = state(ticket)
                fields = {f: "2026-11-02" for f in t.required_fields}
                try:
                    services.ticket_transition(
                        actor=user,
                        ticket=ticket,
                        transition=t.key,
                        comment="because",
                        fields=fields,
                        **extra,
                    )
                except Forbidden:
                    refused += 1
                    assert state(ticket) == before
                    assert not allowed(who, GIVEN_VERBS[name]), (t.key, role, name)
                except CasedeskError:
                    assert state(ticket) == before  # refused by the workflow or the input
                else:
                    assert allowed(who, GIVEN_VERBS[name]), (t.key, role, name)
                tried += 1
    assert tried == len(wf.transitions) * len(people) * len(values)
    assert refused > 0
