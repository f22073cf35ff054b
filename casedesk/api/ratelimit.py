"""Requests per token per minute, and bad tokens per address per minute.

Both are the one rate-limit counter (casedesk.jobs.windows): a row per key and minute,
raised atomically, so the count is exact across any number of web processes, without a
cache server.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from casedesk.common import clock
from casedesk.jobs.windows import window_count, window_hit

from .models import ApiToken

WINDOW = timedelta(minutes=1)


def limit_of(token: ApiToken) -> int:
    return token.rate_limit or settings.CASEDESK_API_RATE_LIMIT


def token_key(token: ApiToken) -> str:
    return f"api:token:{token.pk}"


def rate_hit(token: ApiToken) -> float | None:
    """Count one request; None if it is within the limit, else seconds until the next
    window opens (for Retry-After)."""
    now = clock.now()
    hit = window_hit(key=token_key(token), window=WINDOW, now=now)
    if hit.first:  # the first request of a minute: a good time to note use
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return None if hit.count <= limit_of(token) else hit.retry_after


def _failure_key(address: str) -> str:
    return f"api:bad-token:{address}"


def failures_wait(address: str) -> float | None:
    """Seconds an address must wait because it brought too many bad tokens this minute."""
    seen = window_count(key=_failure_key(address), window=WINDOW)
    return seen.retry_after if seen.count >= settings.CASEDESK_API_AUTH_FAILURE_LIMIT else None


def failure_hit(address: str) -> None:
    """Count a bad token from `address`."""
    window_hit(key=_failure_key(address), window=WINDOW)
