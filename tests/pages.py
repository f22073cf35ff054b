"""Helpers for tests of pages."""

from __future__ import annotations

import re

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def body(response) -> bytes:
    """The page without its per-request CSRF token, to compare two pages byte for byte."""
    return _TOKEN.sub(b'name="csrfmiddlewaretoken" value=""', response.content)
