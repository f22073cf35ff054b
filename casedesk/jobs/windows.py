"""One rate-limit counter: how often a key was counted in a fixed window.

Windows are aligned to the epoch (a minute window starts on the minute), so one row per
key and window is enough, and every process agrees on it. A count is one UPDATE (the row
lock serialises concurrent requests on PostgreSQL; SQLite writes one at a time), or an
INSERT for the first count of a window, which also tidies away every window that is over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from casedesk.common import clock

from .models import WindowCount

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Count:
    count: int
    first: bool  # the first count in this window
    retry_after: float  # whole seconds until the next window opens (at least 1)


def window_start(now: datetime, window: timedelta) -> datetime:
    return now - (now - EPOCH) % window


def _bounds(window: timedelta, now: datetime) -> tuple[datetime, float]:
    start = window_start(now, window)
    wait = max(1.0, math.ceil((start + window - now).total_seconds()))
    return start, wait


def window_hit(*, key: str, window: timedelta, now: datetime | None = None) -> Count:
    """Count one for `key` in the current window, atomically across processes."""
    now = now or clock.now()
    start, wait = _bounds(window, now)
    outermost = not connection.in_atomic_block
    first = False
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # A count lost in a crash costs nothing; waiting for the disk on every request
            # costs most of a read's time (bench/api.py). Only this transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = WindowCount.objects.filter(key=key, start=start)
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    WindowCount.objects.create(
                        key=key, start=start, ends_at=start + window, count=1
                    )
                first = True
                # Windows of any key that ended before this one's predecessor are over.
                WindowCount.objects.filter(ends_at__lt=start).delete()
            except IntegrityError:  # another process made it meanwhile
                rows.update(count=F("count") + 1)
        count = rows.values_list("count", flat=True).get()
    return Count(count, first, wait)


def window_count(*, key: str, window: timedelta, now: datetime | None = None) -> Count:
    """The count so far in the current window, without counting."""
    now = now or clock.now()
    start, wait = _bounds(window, now)
    count = WindowCount.objects.filter(key=key, start=start).values_list("count", flat=True)
    return Count(count.first() or 0, False, wait)


def window_clear(*, key: str) -> None:
    WindowCount.objects.filter(key=key).delete()
