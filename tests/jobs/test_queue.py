"""The durable-job primitive, on a real table of jobs (the outbox): claim, lease, tries,
one backoff schedule, held rows, retry and discard."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models import Q

from casedesk.jobs.queue import (
    BACKOFF,
    job_discard,
    job_failed,
    job_lease,
    job_retry,
    jobs_claim,
    retry_delay,
)
from casedesk.tickets import outbox, services
from casedesk.tickets.models import OutboxItem


@pytest.fixture
def items(world):
    outbox.register("probe", {"created"}, lambda events: None)
    for n in range(3):
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}")
    yield list(OutboxItem.objects.filter(consumer="probe").order_by("id"))
    outbox.CONSUMERS.pop("probe")


def test_a_claim_takes_due_rows_for_one_lease_and_counts_a_try(items, clock):
    LEASE = job_lease()
    assert timedelta(minutes=10) == LEASE  # the default
    ids = jobs_claim(outbox.QUEUE, now=clock(), batch=2)
    assert ids == [i.pk for i in items[:2]]
    claimed = OutboxItem.objects.get(pk=ids[0])
    assert claimed.attempts == 1 and claimed.next_attempt_at == clock() + LEASE
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=5) == [items[2].pk]
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=5) == []  # all leased


def test_a_row_whose_worker_died_is_claimed_again_after_the_lease(items, clock, settings):
    settings.CASEDESK_JOB_LEASE_SECONDS = 30  # the lease is a setting
    LEASE = timedelta(seconds=30)
    first = jobs_claim(outbox.QUEUE, now=clock(), batch=1)
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert first[0] not in jobs_claim(outbox.QUEUE, now=clock(), batch=5)
    clock.advance(seconds=1)
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=5) == first
    assert OutboxItem.objects.get(pk=first[0]).attempts == 2  # the lost try counted


def test_failures_wait_on_one_schedule_and_the_last_one_holds(items, clock, settings):
    settings.CASEDESK_OUTBOX_MAX_ATTEMPTS = len(BACKOFF) + 2
    pk = items[0].pk
    only = Q(pk=pk)
    waits = []
    for _ in range(len(BACKOFF) + 1):
        assert jobs_claim(outbox.QUEUE, now=clock(), batch=1, where=only) == [pk]
        row = OutboxItem.objects.get(pk=pk)
        assert not job_failed(outbox.QUEUE, row, error="boom", now=clock())
        waits.append(row.next_attempt_at - clock())
        clock.set(row.next_attempt_at)
    assert waits == [timedelta(seconds=s) for s in BACKOFF] + [timedelta(seconds=BACKOFF[-1])]
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=1, where=only) == [pk]
    row = OutboxItem.objects.get(pk=pk)
    assert job_failed(outbox.QUEUE, row, error="boom" * 1000, now=clock())
    row.refresh_from_db()
    assert row.held_at == clock() and row.next_attempt_at is None and len(row.last_error) == 2000
    clock.advance(days=365)
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=10, where=only) == []


def test_an_error_no_retry_can_fix_holds_at_once(items, clock):
    jobs_claim(outbox.QUEUE, now=clock(), batch=1)
    row = OutboxItem.objects.get(pk=items[0].pk)
    assert job_failed(outbox.QUEUE, row, error="550 no such user", now=clock(), permanent=True)
    assert row.attempts == 1 and row.held_at == clock()


def test_retry_starts_a_held_row_again_and_discard_gives_it_up(items, clock):
    for item in items[:2]:
        jobs_claim(outbox.QUEUE, now=clock(), batch=1)
        job_failed(outbox.QUEUE, OutboxItem.objects.get(pk=item.pk), error="x", now=clock(),
                   permanent=True)  # fmt: skip
    # only held rows are touched: the third is waiting, not held
    assert job_retry(queue=outbox.QUEUE, ids=[items[0].pk, items[2].pk], now=clock()) == 1
    again = OutboxItem.objects.get(pk=items[0].pk)
    assert (again.attempts, again.held_at, again.next_attempt_at) == (0, None, clock())
    assert jobs_claim(outbox.QUEUE, now=clock(), batch=5) == [items[0].pk, items[2].pk]
    assert job_discard(queue=outbox.QUEUE, ids=[items[1].pk, items[2].pk]) == 1
    assert not OutboxItem.objects.filter(pk=items[1].pk).exists()


def test_retry_delay_repeats_its_last_pause():
    assert retry_delay(1) == timedelta(minutes=1)
    assert retry_delay(100) == timedelta(seconds=BACKOFF[-1])


def test_the_claim_reads_the_due_index_only(items, clock):
    """What a sweep costs follows the due rows: the plan is a range on the due index."""
    sql, params = outbox.QUEUE.due_rows(clock()).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}" if connection.vendor == "sqlite"
                       else f"EXPLAIN {sql}", params)  # fmt: skip
        plan = " ".join(str(row) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "outbox_due" in plan
    else:  # a small table may be scanned on PostgreSQL; the index must at least exist
        assert OutboxItem._meta.indexes[0].name == "outbox_due"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_row(world):
    outbox.register("probe", {"created"}, lambda events: None)
    try:
        for n in range(40):
            services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}")
        got: list[list[int]] = []
        start = threading.Barrier(4)

        def claim() -> None:
            start.wait()
            try:
                mine = []
                while ids := jobs_claim(outbox.QUEUE, batch=3, where=None):
                    mine += ids
                got.append(mine)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=claim) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        every = [pk for mine in got for pk in mine]
        assert len(every) == len(set(every)) == OutboxItem.objects.count()
    finally:
        outbox.CONSUMERS.pop("probe")
        with transaction.atomic():
            OutboxItem.objects.all().delete()
