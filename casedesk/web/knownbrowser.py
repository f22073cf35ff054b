"""A browser that has logged in to an account before may keep logging in to it while the
account's name is being guessed elsewhere.

Per-account limits exist to stop guessing, but a guesser who knows a name could use them
to lock its owner out. After a successful login the browser gets a signed cookie naming
the account; from that browser, logins to that account skip the guessing limits (the
password is still checked). The cookie proves only that this browser logged in as that
name before, so it is worthless to anyone who never had the password."""

from __future__ import annotations

import hashlib
import unicodedata

from django.conf import settings
from django.core import signing

COOKIE = "casedesk_known"
SALT = "casedesk.web.known-browser"
MAX_AGE = 365 * 24 * 3600


def login_name(username: str) -> str:
    """The account name as the limits count it: the same normalisation as logging in
    (NFKC, as Django's login form does) and then case-folded, so look-alike spellings
    (full-width or mathematical letters, another case) all count as one name."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:120]


def known_for(request, username: str) -> bool:
    value = request.COOKIES.get(COOKIE, "")
    if not value:
        return False
    try:
        names = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(names, list) and login_name(username) in names


def browser_tag(request) -> str:
    """A short fingerprint of the browser's cookie, to count its own attempts by."""
    value = request.COOKIES.get(COOKIE, "")
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def remember(request, response, username: str) -> None:
    """Add the account to the browser's cookie (the last five accounts it used)."""
    names: list[str] = []
    value = request.COOKIES.get(COOKIE, "")
    if value:
        try:
            loaded = signing.loads(value, salt=SALT, max_age=MAX_AGE)
            names = [n for n in loaded if isinstance(n, str)] if isinstance(loaded, list) else []
        except signing.BadSignature:
            names = []
    name = login_name(username)
    names = [name, *(n for n in names if n != name)][:5]
    response.set_cookie(
        COOKIE,
        signing.dumps(names, salt=SALT),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
