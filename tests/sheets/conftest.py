"""A service-sheet desk (seed 004's workflow) with kinds of work, in Prague's time."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from casedesk.sheets.models import WorkKind
from casedesk.tickets import services
from tests.conftest import make_desk
from tests.helpers import fresh


@dataclass
class Sheets:
    desk: object
    consulting: WorkKind
    travel: WorkKind
    other_kind: WorkKind  # of another desk


@pytest.fixture
def sl(world) -> Sheets:
    desk = make_desk("servisni_list", "SL", [world.org_a, world.org_b], {world.agent: "agent"})
    desk.time_zone = "Europe/Prague"
    desk.save()
    consulting = WorkKind.objects.create(
        desk=desk, slug="consulting", labels={"en": "Consulting", "cs": "Konzultace"}
    )
    travel = WorkKind.objects.create(
        desk=desk, slug="travel", labels={"en": "Travel", "cs": "Cesta"}, billable=False
    )
    other = WorkKind.objects.create(desk=world.desk, slug="consulting", labels={"en": "Consulting"})
    return Sheets(desk=desk, consulting=consulting, travel=travel, other_kind=other)


def started(world, sl, title: str = "Sestava tržeb"):
    """A service ticket the consultant is working on."""
    t = services.ticket_create(actor=world.alice, desk=sl.desk, title=title, type="servis")
    services.ticket_assign(actor=world.agent, ticket=t, assignee=world.agent)
    services.ticket_transition(actor=world.agent, ticket=t, transition="start_work")
    return fresh(t)


def submit(world, ticket):
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="send_for_approval", comment="Hotovo."
    )
    return fresh(ticket)
