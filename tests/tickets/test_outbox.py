"""History reaches its consumers exactly when the change committed, once, in order."""

from __future__ import annotations

from zoneinfo import ZoneInfoNotFoundError

import pytest
from django.db import transaction

from casedesk.jobs.queue import retry_delay
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


def test_a_failing_consumer_tries_again_on_the_schedule(world, clock, caplog):
    calls = []

    def flaky(events):
        calls.append(len(events))
        if len(calls) == 1:
            raise ValueError("smtp down")

    outbox.register("flaky", {"created"}, flaky)
    try:
        services.ticket_create(actor=world.alice, desk=world.desk, title="x")
        assert outbox.deliver("flaky") == 0  # (a worker round; other consumers may run too)
        item = OutboxItem.objects.get(consumer="flaky")
        assert item.attempts == 1 and "smtp down" in item.last_error
        assert item.next_attempt_at == clock() + retry_delay(1)
        assert "flaky failed" in caplog.text
        run_once()
        assert calls == [1]  # not before its time
        clock.advance(seconds=retry_delay(1).total_seconds())
        run_once()
        assert calls == [1, 1] and not OutboxItem.objects.filter(consumer="flaky").exists()
    finally:
        outbox.CONSUMERS.pop("flaky")


@pytest.fixture
def picky(world):
    """A consumer that cannot take the history of one ticket (as a desk with a mistyped
    time zone could not be written to), and takes everything else."""
    taken: list[tuple[str, str]] = []

    def handler(events):
        for e in events:
            if e.ticket.title == "bad":
                raise ZoneInfoNotFoundError("No time zone found with key Europe/Copenhagn")
        taken.extend((e.ticket.key, e.kind) for e in events)

    outbox.register("picky", {"created", "comment"}, handler)
    yield taken
    outbox.CONSUMERS.pop("picky")


def test_one_failing_entry_is_retried_then_held_and_every_other_is_delivered(
    world, clock, settings, picky
):
    settings.CASEDESK_OUTBOX_MAX_ATTEMPTS = 3
    good = services.ticket_create(actor=world.alice, desk=world.desk, title="good")
    bad = services.ticket_create(actor=world.alice, desk=world.desk, title="bad")
    services.comment_add(actor=world.alice, ticket=good, body="hello")
    other = services.ticket_create(actor=world.alice, desk=world.other_desk, title="other")
    run_once()
    assert picky == [("GEN-1", "created"), ("GEN-1", "comment"), ("OTH-1", "created")]
    stuck = OutboxItem.objects.get(consumer="picky")
    assert stuck.event.ticket == bad and stuck.attempts == 1 and stuck.held_at is None
    for tries in (2, 3):
        later = services.comment_add(actor=world.alice, ticket=other, body=f"try {tries}")
        clock.advance(seconds=retry_delay(tries - 1).total_seconds())
        run_once()
        assert picky[-1] == ("OTH-1", "comment")  # the rest keeps flowing meanwhile
        assert later.ticket_id == other.pk
    stuck.refresh_from_db()
    assert stuck.attempts == 3 and stuck.held_at == clock() and stuck.next_attempt_at is None
    assert "Copenhagn" in stuck.last_error
    clock.advance(days=30)
    run_once()  # held: no sweep reads it again
    stuck.refresh_from_db()
    assert stuck.attempts == 3 and len(picky) == 5


def test_staff_see_held_entries_in_the_admin_and_retry_or_discard_them(
    world, clock, settings, picky, admin_client
):
    settings.CASEDESK_OUTBOX_MAX_ATTEMPTS = 1
    bad = services.ticket_create(actor=world.alice, desk=world.desk, title="bad")
    services.ticket_create(actor=world.alice, desk=world.desk, title="bad")
    run_once()
    held = list(OutboxItem.objects.filter(consumer="picky", held_at__isnull=False))
    assert len(held) == 2
    page = admin_client.get("/admin/tickets/outboxitem/?held=yes")
    assert page.status_code == 200 and "Copenhagn" in page.content.decode()
    assert {o.pk for o in page.context["cl"].result_list} == {o.pk for o in held}
    assert "retry_held" in page.content.decode() and "discard_held" in page.content.decode()

    bad.title = "fixed"
    bad.save(update_fields=["title"])
    answer = admin_client.post(
        "/admin/tickets/outboxitem/",
        {"action": "retry_held", "_selected_action": [held[0].pk]},
    )
    assert answer.status_code == 302
    run_once()
    assert picky == [("GEN-1", "created")]
    assert not OutboxItem.objects.filter(pk=held[0].pk).exists()
    admin_client.post(
        "/admin/tickets/outboxitem/",
        {"action": "discard_held", "_selected_action": [held[1].pk]},
    )
    assert not OutboxItem.objects.filter(consumer="picky").exists()


def test_only_staff_who_may_change_the_rows_retry_or_discard_them(world, clock, settings,
                                                                   picky, client):  # fmt: skip
    from django.contrib.auth.models import Permission

    settings.CASEDESK_OUTBOX_MAX_ATTEMPTS = 1
    services.ticket_create(actor=world.alice, desk=world.desk, title="bad")
    run_once()
    item = OutboxItem.objects.get(consumer="picky")
    viewer = world.lead
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxitem"))
    client.force_login(viewer)
    page = client.get("/admin/tickets/outboxitem/?held=yes")
    assert page.status_code == 200 and "retry_held" not in page.content.decode()
    for action in ("retry_held", "discard_held"):
        client.post("/admin/tickets/outboxitem/", {"action": action, "_selected_action": [item.pk]})
        item.refresh_from_db()
        assert item.held_at is not None and item.attempts == 1
