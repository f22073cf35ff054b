"""Observers follow every finished change, the system's own included, inside its
transaction: what they see is what was saved, and what they refuse is not saved."""

from __future__ import annotations

import pytest

from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from tests.helpers import fresh


@pytest.fixture
def seen():
    got: list[tuple[str, int, list[str]]] = []

    def follow(change) -> None:
        got.append((change.ticket.key, change.ticket.version, [e.kind for e in change.events]))

    services.observe_changes("test", follow)
    yield got
    services.forget_observer("test")


def test_observers_see_each_change_with_its_events_and_saved_version(world, seen):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    services.comment_add(actor=world.agent, ticket=ticket, body="on it")
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    key = fresh(ticket).key
    assert [k for k, _, _ in seen] == [key, key, key]
    assert seen[0][2] == ["created"]
    assert seen[1][2] == ["comment"]
    assert "assigned" in seen[2][2]
    versions = [v for _, v, _ in seen]
    assert versions == sorted(set(versions)) and versions[-1] == fresh(ticket).version


def test_observers_follow_the_system_s_own_moves(world, seen):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    seen.clear()
    services.ticket_fire_event(ticket_id=ticket.pk, event="nothing_listens_to_this")
    assert seen == []  # nothing happened, so nothing was finished


def test_an_observer_that_refuses_rolls_the_change_back(world):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    before = fresh(ticket)
    entries = TicketEvent.objects.filter(ticket=ticket).count()

    def refuse(change) -> None:
        raise RuntimeError("no")

    services.observe_changes("refuse", refuse)
    try:
        with pytest.raises(RuntimeError):
            services.comment_add(actor=world.agent, ticket=before, body="lost")
    finally:
        services.forget_observer("refuse")
    assert fresh(ticket).version == before.version
    assert TicketEvent.objects.filter(ticket=ticket).count() == entries
