"""Load and fault: mixed portal, workspace, API and mail traffic against two gunicorn web
processes and two workers on one PostgreSQL database, with a worker and a web process
killed (SIGKILL) and started again in the middle. Nothing is lost or doubled, every mail
and webhook arrives, and the only failed requests are those the killed web process had
in hand (tests/ops/loadfault.py says how each is judged; bench/loadfault.py runs it
longer and prints the latencies).

CASEDESK_LOADFAULT_SECONDS sets the traffic's length (25 s by default, for CI)."""

from __future__ import annotations

import os

import pytest

from tests.ops.loadfault import Shape, run

pytestmark = pytest.mark.postgres(reason="several processes on one PostgreSQL database")

SECONDS = float(os.environ.get("CASEDESK_LOADFAULT_SECONDS", "25"))
KINDS = {"portal-ticket", "portal-comment", "agent-reply", "agent-move", "api-ticket",
         "api-comment", "mail-ticket"}  # fmt: skip


def test_mixed_traffic_survives_a_killed_worker_and_web_process(database, tmp_path):
    _, url = database
    outcome = run(tmp_path, url, Shape(seconds=SECONDS))
    print(outcome.table())
    print(outcome.checks)
    assert not outcome.problems, "\n".join(outcome.problems)
    assert set(outcome.checks["changes by kind"]) == KINDS  # each kind of traffic ran
    assert outcome.checks["changes made"] >= 30
    assert outcome.checks["mail: received"] and outcome.checks["webhooks: received"]
