"""The database connections of a running worker and web process are cut
(pg_terminate_backend, as a PostgreSQL restart does): both carry on by themselves, and
nothing is left hanging."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.ops.installation import Installation, free_port, wait_for
from tests.ops.pgdb import connect

pytestmark = pytest.mark.postgres(reason="cuts PostgreSQL connections")


def _rounds(name: str) -> int:
    with connect(name) as conn:
        row = conn.execute("SELECT coalesce(max(rounds), 0) FROM ops_workerheartbeat").fetchone()
        return int(row[0]) if row else 0


def _cut(name: str) -> int:
    with connect() as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
        return int(row[0]) if row else 0


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback)
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_worker_and_a_web_process_recover_when_their_connections_are_cut(database, tmp_path):
    name, url = database
    installation = Installation(tmp_path / "data", DATABASE_URL=url, CASEDESK_WORKER_INTERVAL="0.3")
    installation.run("manage", "migrate", "-v0")
    port = free_port()
    web = installation.start("serve", "--port", str(port), "--processes", "1")
    worker = installation.start("worker")
    ready = f"http://127.0.0.1:{port}/ready"
    try:
        assert json.loads(wait_for(ready, web, timeout=240))["status"] == "ready"
        for _ in range(2):  # twice: a cut right after a reconnect is survived too
            before = _rounds(name)
            assert _cut(name) >= 2  # the worker's and the web process's connections at least
            # the web process: the next requests are answered from a new connection
            answers = [_status(ready) for _ in range(3)]
            assert answers[-1] == 200 and all(a in (200, 503) for a in answers), answers
            # the worker: its rounds go on
            deadline = time.monotonic() + 30
            while _rounds(name) <= before + 2:
                assert worker.poll() is None, installation.stop(worker)
                assert time.monotonic() < deadline, "the worker did not recover"
                time.sleep(0.3)
        assert worker.poll() is None and web.poll() is None
    finally:
        said = installation.stop(worker) + installation.stop(web)
    assert "Traceback" not in said or "worker round failed" in said, said
