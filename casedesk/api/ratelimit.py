"""Requests per token per minute, counted in the database.

A counter row per token and minute, raised with one UPDATE: the row lock serialises
concurrent requests on PostgreSQL (and SQLite writes one at a time), so the count is exact
across any number of web processes, without a cache server.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from casedesk.common import clock

from .models import ApiToken, FailureWindow, RateWindow

WINDOW = timedelta(minutes=1)


def limit_of(token: ApiToken) -> int:
    return token.rate_limit or settings.CASEDESK_API_RATE_LIMIT


def rate_hit(token: ApiToken) -> float | None:
    """Count one request; None if it is within the limit, else seconds until the next
    window opens (for Retry-After)."""
    now = clock.now()
    start = now.replace(second=0, microsecond=0)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # A count lost in a crash costs nothing; waiting for the disk on every request
            # costs most of a read's time (bench/api.py). Only this transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = RateWindow.objects.filter(token=token, start=start)
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateWindow.objects.create(token=token, start=start, count=1)
                # the first request of a minute: a good time to note use and tidy up
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
                RateWindow.objects.filter(token=token, start__lt=start - WINDOW).delete()
            except IntegrityError:  # another process made it meanwhile
                rows.update(count=F("count") + 1)
        count = rows.values_list("count", flat=True).get()
    if count <= limit_of(token):
        return None
    return max(1.0, math.ceil((start + WINDOW - now).total_seconds()))


def _window(now):
    start = now.replace(second=0, microsecond=0)
    return start, max(1.0, math.ceil((start + WINDOW - now).total_seconds()))


def failures_wait(address: str) -> float | None:
    """Seconds an address must wait because it brought too many bad tokens this minute."""
    now = clock.now()
    start, wait = _window(now)
    count = (
        FailureWindow.objects.filter(address=address, start=start)
        .values_list("count", flat=True)
        .first()
    )
    return wait if (count or 0) >= settings.CASEDESK_API_AUTH_FAILURE_LIMIT else None


def failure_hit(address: str) -> None:
    """Count a bad token from `address` (old windows are tidied away as they pass)."""
    start, _ = _window(clock.now())
    with transaction.atomic():
        rows = FailureWindow.objects.filter(address=address, start=start)
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    FailureWindow.objects.create(address=address, start=start, count=1)
                FailureWindow.objects.filter(start__lt=start - WINDOW).delete()
            except IntegrityError:
                rows.update(count=F("count") + 1)
