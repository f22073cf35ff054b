"""The one rate-limit counter: a count per key in fixed windows, exact across processes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections

from casedesk.jobs.models import WindowCount
from casedesk.jobs.windows import window_clear, window_count, window_hit

MINUTE = timedelta(minutes=1)


def test_counts_per_key_in_a_fixed_window(db, clock):
    clock.set(clock().replace(second=40, microsecond=0))
    assert [window_hit(key="a", window=MINUTE).count for _ in range(3)] == [1, 2, 3]
    assert window_hit(key="b", window=MINUTE).count == 1
    seen = window_count(key="a", window=MINUTE)
    assert (seen.count, seen.retry_after) == (3, 20.0)
    clock.advance(seconds=20)  # the next minute is a new window
    assert window_count(key="a", window=MINUTE).count == 0
    hit = window_hit(key="a", window=MINUTE)
    assert hit.count == 1 and hit.first


def test_windows_that_are_over_are_tidied_away_and_a_key_can_be_cleared(db, clock):
    window_hit(key="old", window=MINUTE)
    clock.advance(minutes=5)
    window_hit(key="new", window=MINUTE)
    assert set(WindowCount.objects.values_list("key", flat=True)) == {"new"}
    window_clear(key="new")
    assert not WindowCount.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_counts_are_exact(clock):
    clock.set(clock().replace(second=1))
    start = threading.Barrier(8)
    counts: list[int] = []

    def hit() -> None:
        start.wait()
        try:
            for _ in range(5):
                counts.append(window_hit(key="busy", window=MINUTE).count)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 41))
    WindowCount.objects.all().delete()
