"""Password guessing is limited per account name and per address.

An attempt on an account name is counted *before* the password is checked, under a row
lock, so a hundred parallel guesses still get at most USER_LIMIT evaluations per window,
and the answer to a refused attempt is the same whether the account exists or not. An
address is limited on its failed attempts only, so an office behind one address can
still log in all morning. A successful login clears the account's counter."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from casedesk.common import clock

from .models import LoginThrottle

WINDOW = timedelta(minutes=15)
USER_LIMIT = 10
ADDRESS_LIMIT = 100


def _user_key(username: str) -> str:
    return f"user:{username.strip().lower()[:150]}"


def _address_key(address: str) -> str:
    return f"ip:{address[:45]}"


def _count(key: str, now) -> int:
    """Add one to `key`'s counter in the current window; the new count."""
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(
            key=key, defaults={"window_start": now}
        )
        if now - row.window_start >= WINDOW:
            row.attempts, row.window_start = 0, now
        row.attempts += 1
        row.save(update_fields=["attempts", "window_start"])
        return row.attempts


def login_attempt_allowed(*, username: str, address: str) -> bool:
    """Count one attempt on the account name; False when it or the address is over."""
    now = clock.now()
    if _count(_user_key(username), now) > USER_LIMIT:
        return False
    row = LoginThrottle.objects.filter(key=_address_key(address)).first()
    return not (row and now - row.window_start < WINDOW and row.attempts >= ADDRESS_LIMIT)


def login_failed(*, address: str) -> None:
    _count(_address_key(address), clock.now())


def login_succeeded(*, username: str) -> None:
    LoginThrottle.objects.filter(key=_user_key(username)).delete()
