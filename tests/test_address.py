"""The address in links: `casedesk run --host/--port` unless CASEDESK_BASE_URL says better
(tests/mail/test_outbound.py checks that mail follows it; tests/test_run.py that a real
`casedesk run --port` does)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from casedesk.cli import address_for


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 9123, "http://127.0.0.1:9123"),
        ("192.168.10.4", 80, "http://192.168.10.4:80"),
        ("::1", 8000, "http://[::1]:8000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),  # noqa: S104
    ],
)
def test_run_makes_links_follow_its_address(host, port, expected, capsys):
    env: dict[str, str] = {}
    address_for(host, port, env)
    assert env["CASEDESK_BASE_URL"] == expected
    if host == "0.0.0.0":  # noqa: S104
        assert "Set CASEDESK_BASE_URL" in capsys.readouterr().err


def test_a_configured_address_wins_over_the_one_served_on():
    env = {"CASEDESK_BASE_URL": "https://desk.example.com"}
    address_for("127.0.0.1", 9123, env)
    assert env["CASEDESK_BASE_URL"] == "https://desk.example.com"


def _allowed_hosts(env: dict[str, str]) -> list[str]:
    """The settings as a fresh process reads them from this environment."""
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(','.join(settings.ALLOWED_HOSTS))"
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CASEDESK_")}
    keep["CASEDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="casedesk-settings-")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, "DJANGO_SETTINGS_MODULE": "casedesk.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().split(",")


def test_the_host_of_the_address_is_accepted_in_requests():
    env: dict[str, str] = {}
    address_for("192.168.10.4", 8000, env)
    assert "192.168.10.4" in _allowed_hosts(env)
    assert "desk.example.com" in _allowed_hosts({"CASEDESK_BASE_URL": "https://desk.example.com"})
    assert "[::1]" in _allowed_hosts({"CASEDESK_BASE_URL": "http://[::1]:8000"})
    # an explicit list is kept, and the address's own host joins it
    assert _allowed_hosts(
        {"CASEDESK_BASE_URL": "https://desk.example.com", "CASEDESK_ALLOWED_HOSTS": "a.example"}
    ) == ["a.example", "desk.example.com"]
