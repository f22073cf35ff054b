from __future__ import annotations

import pytest

from casedesk.tickets import services
from tests.conftest import make_desk

UB = "under_behandling"


@pytest.fixture
def tms(world):
    return make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )


@pytest.fixture
def change_request(world, tms):
    """A change request of Alice's organisation, waiting for an offer."""
    ticket = services.ticket_create(
        actor=world.alice, desk=tms, title="Eksport til lønsystemet", type="aendringsoenske"
    )
    agent = world.agent
    services.ticket_transition(actor=agent, ticket=ticket, transition="receive", assignee=agent)
    services.ticket_transition(actor=agent, ticket=ticket, transition="start_work")
    services.ticket_transition(actor=agent, ticket=ticket, transition="register_change_request")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.sub_status) == (UB, "aendringsoenske_fra_kunde")
    return ticket
