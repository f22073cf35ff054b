"""The database connections of a running worker and web process are cut
(pg_terminate_backend, as a PostgreSQL restart does): both carry on by themselves, and
nothing is left hanging. And a real restart, of a PostgreSQL cluster of the test's own
(initdb on loopback; the machine's shared server is never restarted), in the middle of
traffic: what is asked meanwhile is answered 503 with the code, never a 500 or a broken
connection, and afterwards everything works again without a hand."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from casedesk.common.outage import UNAVAILABLE
from tests.ops.clusters import primary, remove, server_bin
from tests.ops.installation import Installation, free_port, wait_for
from tests.ops.loadfault import Rig, Shape
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


BIN = server_bin()
GRACE = 2.0  # seconds after the server is back in which a request may still meet the cut


@pytest.fixture
def cluster():
    if BIN is None:
        pytest.skip(
            "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin; "
            "Debian package postgresql)"
        )
    folder, cluster = primary(BIN, prefix="casedesk-restart-")
    yield cluster
    remove(folder, cluster)


def test_a_postgresql_restart_under_traffic_is_answered_503_and_recovered_from(cluster, tmp_path):
    shape = Shape(seconds=20, portal=1, agents=1, api=2, mail=0, tickets_per_agent=2)
    with Rig(tmp_path, cluster.url, shape) as rig:
        rig.traffic()
        rig.at(0.25)
        down = time.monotonic()
        cluster.stop("fast")  # every connection is closed, new ones are refused
        time.sleep(2)
        health, ready = _status(f"{rig.base}/health"), _status(f"{rig.base}/ready")
        time.sleep(2)
        cluster.start()
        up = time.monotonic()
        rig.at(1.0)
        rig.finish()  # the workers send what was written before and after

        def outage(call) -> bool:
            return (
                call.status == 503
                and UNAVAILABLE in call.error
                and call.end >= down
                and call.start <= up + GRACE
            )

        checks, problems = rig.judge(outage)
        said = rig.logs_of("worker")
    assert not problems, "\n".join(problems)
    assert (health, ready) == (503, 503)
    calls = rig.record.calls
    met = [c for c in calls if c.status == 503]
    assert met, "no request met the outage"
    print(f"{len(met)} of {len(calls)} requests answered 503 while PostgreSQL restarted")
    # every kind of client works again afterwards
    after = {c.kind.split(":")[0] for c in calls if c.start > up + GRACE and not c.error}
    assert after == {"portal", "agent", "api"}, after
    assert checks["mail: received"] and checks["webhooks: received"]
    assert "worker round failed" in said  # it said so, and went on
