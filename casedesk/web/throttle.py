"""Password guessing is limited per account name and per address.

Both are counted in fixed fifteen-minute windows by the one rate-limit counter
(casedesk.jobs.windows). An attempt on an account name is counted *before* the password
is checked, atomically, so a hundred parallel guesses still get at most USER_LIMIT
evaluations per window, and the answer to a refused attempt is the same whether the
account exists or not. An address is limited on its failed attempts only, so an office
behind one address can still log in all morning. A successful login clears the account's counter."""

from __future__ import annotations

from datetime import timedelta

from casedesk.jobs.windows import window_clear, window_count, window_hit

WINDOW = timedelta(minutes=15)
USER_LIMIT = 10
ADDRESS_LIMIT = 100


def _user_key(username: str) -> str:
    return f"login:user:{username.strip().lower()[:150]}"


def _address_key(address: str) -> str:
    return f"login:ip:{address[:45]}"


def login_attempt_allowed(*, username: str, address: str) -> bool:
    """Count one attempt on the account name; False when it or the address is over."""
    if window_hit(key=_user_key(username), window=WINDOW).count > USER_LIMIT:
        return False
    return window_count(key=_address_key(address), window=WINDOW).count < ADDRESS_LIMIT


def login_failed(*, address: str) -> None:
    window_hit(key=_address_key(address), window=WINDOW)


def login_succeeded(*, username: str) -> None:
    window_clear(key=_user_key(username))


RESET_WINDOW = timedelta(hours=1)
RESET_PER_ACCOUNT = 3
RESET_PER_ADDRESS = 20


def reset_allowed(*, email: str, address: str) -> bool:
    """Password reset mail: at most three an hour to one address and twenty an hour asked
    for from one client, so the page cannot be used to flood someone's inbox."""
    to_account = window_hit(key=f"reset:mail:{email[:200]}", window=RESET_WINDOW).count
    from_client = window_hit(key=f"reset:ip:{address[:45]}", window=RESET_WINDOW).count
    return to_account <= RESET_PER_ACCOUNT and from_client <= RESET_PER_ADDRESS
