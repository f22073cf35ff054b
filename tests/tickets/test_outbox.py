"""History reaches its consumers exactly when the change committed, once, in order."""

from __future__ import annotations

import pytest
from django.db import transaction

from casedesk.ops.worker import run_once
from casedesk.tickets import outbox, services
from casedesk.tickets.models import OutboxItem


@pytest.fixture
def seen():
    got: list[tuple[str, str]] = []
    outbox.register(
        "test",
        {"created", "comment", "transition"},
        lambda events: got.extend((e.ticket.key, e.kind) for e in events),
    )
    yield got
    outbox.CONSUMERS.pop("test")


def test_consumers_get_the_kinds_they_asked_for_once_and_in_order(world, seen):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    services.comment_add(actor=world.agent, ticket=t, body="note", internal=True)  # a 'note'
    services.comment_add(actor=world.alice, ticket=t, body="hello")
    assert OutboxItem.objects.filter(consumer="test").count() == 2
    run_once()
    assert seen == [("GEN-1", "created"), ("GEN-1", "comment")]
    run_once()
    assert len(seen) == 2 and not OutboxItem.objects.filter(consumer="test").exists()


def test_nothing_is_delivered_for_a_change_that_rolled_back(world, seen):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_create(actor=world.alice, desk=world.desk, title="gone")
        raise RuntimeError("rolled back")
    run_once()
    assert seen == []


def test_a_failing_consumer_keeps_its_batch(world, caplog):
    calls = []

    def flaky(events):
        calls.append(len(events))
        if len(calls) == 1:
            raise ValueError("smtp down")

    outbox.register("flaky", {"created"}, flaky)
    try:
        services.ticket_create(actor=world.alice, desk=world.desk, title="x")
        assert outbox.deliver("flaky") == 0  # (a worker round; other consumers may run too)
        assert OutboxItem.objects.filter(consumer="flaky").count() == 1
        assert "flaky failed" in caplog.text
        run_once()
        assert calls == [1, 1] and not OutboxItem.objects.filter(consumer="flaky").exists()
    finally:
        outbox.CONSUMERS.pop("flaky")
