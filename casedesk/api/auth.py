"""Who is calling: a personal token in the Authorization header, or the browser session.

A request that carries an Authorization header is judged by it alone: a bad token is a
401 even if a session cookie comes along. A token of the read scope may only read.
Session callers must send Django's CSRF token on every change. Tokens in the address are
refused, because addresses end up in logs and browser histories.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from casedesk.common.errors import Problem
from casedesk.web.client import client_address

from .models import ApiToken
from .ratelimit import failure_hit, failures_wait, rate_hit
from .tokens import token_authenticate

SAFE = ("GET", "HEAD", "OPTIONS")
TOKEN_PARAMS = ("token", "access_token", "api_key", "apikey", "auth", "bearer")


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(401, "api.bearer_malformed")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str):
        found = token_authenticate(token)
        if found is None:
            # Guessing is answered with a wait once an address has guessed too often; a
            # valid token is never refused for what others did from the same address.
            address = client_address(request)
            wait = failures_wait(address)
            if wait is not None:
                raise Throttled(math.ceil(wait))
            failure_hit(address)
            raise AuthenticationError(401, "api.token.unknown")
        wait = rate_hit(found)
        if wait is not None:
            raise Throttled(math.ceil(wait))
        if request.method not in SAFE and found.scope != ApiToken.Scope.WRITE:
            raise AuthorizationError(403, "api.token.read_only")
        request.user = found.user  # so every read and write sees the token's owner
        return found.user


class SessionAuth(APIKeyCookie):
    """The browser's login session; changes need the CSRF token (header X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        if request.headers.get("Authorization"):
            return None  # judged by TokenAuth alone
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE and check_csrf(request) is not None:
            raise HttpError(403, "api.csrf")
        return user


def refuse_token_in_address(request: HttpRequest) -> Problem | None:
    for name in request.GET:
        if name.lower() in TOKEN_PARAMS:
            return Problem("api.token.in_address")
    return None


AUTH = [TokenAuth(), SessionAuth()]
