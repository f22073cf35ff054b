"""An API client that calls as a person through a real token, over Django's test client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from casedesk.api.tokens import token_create


class Api:
    """Calls /api/v1 as one person, with a token of the given scope."""

    def __init__(self, user, scope: str = "write"):
        self.user = user
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, secret = token_create(actor=user, user=user, name="test", scope=scope)
            self.secret = secret
            self.headers["Authorization"] = f"Bearer {secret}"

    def call(self, method: str, path: str, body=None, *, headers=None, **kw):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        extra = {**self.headers, **(headers or {})}
        if body is not None and "data" not in kw:
            kw["data"] = json.dumps(body)
            kw.setdefault("content_type", "application/json")
        return getattr(self.client, method.lower())(url, headers=extra, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def as_user(world):
    made: dict = {}

    def make(name: str, scope: str = "write") -> Api:
        key = (name, scope)
        if key not in made:
            made[key] = Api(getattr(world, name) if name != "anon" else None, scope)
        return made[key]

    return make
