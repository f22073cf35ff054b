"""A real streaming replica (CASEDESK_REPLICA_URL): the status guide reads from it while it
keeps up, from the primary while it lags more than allowed or is down, and from it again
once it is back; with clusters of the test's own, made with initdb and pg_basebackup."""

from __future__ import annotations

import json
import time

import pytest

from tests.ops.clusters import primary_and_replica, remove, server_bin
from tests.ops.installation import Installation

pytestmark = pytest.mark.postgres(reason="makes PostgreSQL clusters of its own")

BIN = server_bin()

# In the installation: the guide page as the demo's administrator, counting the
# statements that went to the replica (without connecting to it for that).
LOOK = """
import json
from django.db import connections
from django.test import Client
from casedesk.accounts.models import User
from casedesk.common.replica import replica_status
from casedesk.desks.models import Desk
seen = []
client = Client()
client.force_login(User.objects.get(username="admin"))
desk = Desk.objects.get(key_prefix="GEN")
def count(run, sql, *args):
    if "pg_is_in_recovery" not in sql:  # (not the lag check itself)
        seen.append(sql)
    return run(sql, *args)
with connections["replica"].execute_wrapper(count):
    page = client.get(f"/portal/guide/{desk.pk}/")
print(json.dumps({"status": page.status_code, "on_replica": len(seen),
                  "why": replica_status()["why"], "title": desk.name in page.text}))
"""


@pytest.fixture
def clusters():
    if BIN is None:
        pytest.skip(
            "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin; "
            "Debian package postgresql)"
        )
    folder, primary, replica = primary_and_replica(BIN)
    yield primary, replica
    remove(folder, replica, primary)


def _look(installation: Installation) -> dict:
    return json.loads(installation.run("manage", "shell", "-c", LOOK).stdout.splitlines()[-1])


def test_reads_go_to_a_replica_that_keeps_up_and_to_the_primary_otherwise(clusters, tmp_path):
    primary, replica = clusters
    installation = Installation(
        tmp_path / "data",
        DATABASE_URL=primary.url,
        CASEDESK_REPLICA_URL=replica.url,
        CASEDESK_REPLICA_MAX_LAG_SECONDS="1",
        CASEDESK_ALLOWED_HOSTS="testserver",
    )
    installation.run("manage", "migrate", "-v0")  # on the primary only; the replica follows
    installation.run("demo")

    # caught up: the guide reads from the replica
    seen = _look(installation)
    assert seen["status"] == 200 and seen["title"] and seen["on_replica"] > 0, seen
    assert seen["why"] == ""

    # replay paused while the primary writes on: more than a second behind, not used
    replica.sql("SELECT pg_wal_replay_pause()")
    primary.sql("CREATE TABLE written_meanwhile (n int); INSERT INTO written_meanwhile VALUES (1)")
    time.sleep(1.5)
    primary.sql("INSERT INTO written_meanwhile VALUES (2)")
    seen = _look(installation)
    assert seen["status"] == 200 and seen["title"] and seen["on_replica"] == 0, seen
    assert seen["why"].startswith("lags "), seen

    # caught up again: used again
    replica.sql("SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + 30
    while replica.sql("SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()") != "t":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert _look(installation)["on_replica"] > 0

    # cut off from its primary (nothing arrives, so it has replayed all it received): a
    # replica that no longer streams is not taken for current
    conninfo = replica.sql("SHOW primary_conninfo")  # as pg_basebackup -R wrote it
    replica.sql("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'")
    replica.sql("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 30
    while (
        replica.sql("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") != "0"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    primary.sql("INSERT INTO written_meanwhile VALUES (3)")
    seen = _look(installation)
    assert seen["status"] == 200 and seen["title"] and seen["on_replica"] == 0, seen
    assert seen["why"] == "does not stream from its primary", seen
    quoted = conninfo.replace("'", "''")
    replica.sql(f"ALTER SYSTEM SET primary_conninfo = '{quoted}'")
    replica.sql("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 60
    while _look(installation)["on_replica"] == 0:
        assert time.monotonic() < deadline, _look(installation)
        time.sleep(0.5)

    # down: the primary answers, and the reason is said
    replica.stop("immediate")
    seen = _look(installation)
    assert seen["status"] == 200 and seen["title"] and seen["on_replica"] == 0, seen
    assert seen["why"].startswith("does not answer"), seen
