"""Static inventories (SECURITY-TESTS T34, T76): which views skip Django's CSRF check, and
no SQL written by hand in the API or webhooks."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2] / "casedesk"


def routes(patterns=None, prefix=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_only_the_api_skips_djangos_csrf_check():
    """The API's views are exempt from Django's middleware because the API checks CSRF
    itself for session callers (tests/api/test_auth.py); nothing else may be exempt."""
    exempt = sorted(route for route, view in routes() if getattr(view, "csrf_exempt", False))
    assert exempt and all(route.startswith("api/v1/") for route in exempt), exempt


def test_no_hand_written_sql_in_the_api_or_webhooks():
    pattern = re.compile(r"\.raw\(|\.extra\(|RawSQL|cursor\(\)")
    found = {
        str(path.relative_to(ROOT)): line.strip()
        for folder in ("api", "webhooks", "jobs")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        for line in path.read_text().splitlines()
        if pattern.search(line)
    }
    # the one statement: the rate counter's transaction setting, no input in it
    assert found == {"jobs/windows.py": "with connection.cursor() as cursor:"}, found
