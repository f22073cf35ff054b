"""Benchmark: what a deployment costs, against the tickets it concerns and all the others.

Builds, on the `tms` preset, K tickets of one organisation waiting in *Afventer
Distribution start* for a fix in release 3.1.2, and N - K others it does not concern:
other organisations' tickets waiting for the same fix, the organisation's closed tickets
fixed in it, and tickets with no fix. Then it measures, for a TEST deployment of 3.2:

  find concerned    the delivery's reads of the tickets it concerns: their fixes on the
                    `fix_waiting` index, then the tickets by key, 500 at a time
                    (median of 7 runs; `--explain` prints both plans)
  deliver K         the whole delivery: every concerned ticket moved to *Opdateret i
                    TEST* in its own transaction, committed, as the worker does (run
                    once; then the rows it added are deleted and the tickets it moved
                    are put back as they were, so the next size starts alike). Each
                    ticket's move is timed too: the median is what a ticket costs when
                    others' work on the machine does not get in the way; and the CPU
                    time per ticket of this process and of its PostgreSQL backend
                    (read from /proc) does not depend on how busy the machine is.

Run against a scratch database (it is filled with generated rows):

  CASEDESK_DATA_DIR=/tmp/casedesk-bench .venv/bin/python bench/deployments.py \\
      --concerned 10000 --sizes 100000 1000000
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_bench .venv/bin/python ...

Prints a Markdown table; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk
from casedesk.desks.services import desk_create, preset_store
from casedesk.releases import delivery
from casedesk.releases.delivery import BATCH, DEPLOYED, _candidates, carried, deployment_deliver
from casedesk.releases.models import Deployment, Environment, Release, TicketFix, VersionLine
from casedesk.tickets.models import Ticket

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def setup_base():
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="DEPL").first()
    if desk is None:
        desk = desk_create(name="Bench", key_prefix="DEPL", workflow=preset_store("tms"))
    orgs = []
    for slug in ("bench-a", "bench-b", "bench-c"):
        org, _ = Organisation.objects.get_or_create(slug=slug, defaults={"name": slug})
        desk.organisations.add(org)
        orgs.append(org)
    user = User.objects.filter(username="bench-depl").first() or User.objects.create_user(
        "bench-depl", kind="customer", organisation=orgs[0], customer_role="member"
    )
    line, _ = VersionLine.objects.get_or_create(desk=desk, name="3", defaults={"position": 1})
    releases = {}
    for version, position in (("3.1.2", 10), ("3.2", 20)):
        releases[version], _ = Release.objects.get_or_create(
            desk=desk,
            version=version,
            defaults={"line": line, "position": position, "created_at": T0},
        )
    env, _ = Environment.objects.get_or_create(
        organisation=orgs[0], desk=desk, name="TEST", defaults={"tier": "TEST"}
    )
    return desk, orgs, user, line, releases, env


def grow(desk, orgs, user, line, fixed, size: int, concerned: int) -> None:
    """Tickets 1..K concern the deployment; the rest are spread over the other kinds."""
    have = Ticket.objects.filter(desk=desk).count()
    if have >= size:
        return
    pg = connection.vendor == "postgresql"
    if pg:
        rows = "generate_series(%(start)s, %(end)s) AS n"
        fields = """'{"fix_version": "3.1.2"}'::jsonb"""
        empty_list, yes, t0 = "'[]'::jsonb", "true", T0
    else:
        rows = (
            "(WITH RECURSIVE s(n) AS (SELECT %(start)s UNION ALL SELECT n + 1 FROM s "
            "WHERE n < %(end)s) SELECT n FROM s)"
        )
        fields, empty_list, yes, t0 = """'{"fix_version": "3.1.2"}'""", "'[]'", "1", "2026-01-01"
    # kind of ticket n: 0 concerned; else by n % 3: 0 other org waiting, 1 closed, 2 no fix
    kind = f"CASE WHEN n <= {concerned} THEN 0 ELSE 1 + (n %% 3) END"
    org = f"CASE {kind} WHEN 1 THEN %(b)s WHEN 0 THEN %(a)s ELSE %(a)s END"
    status = f"CASE {kind} WHEN 2 THEN 'lukket' ELSE 'under_behandling' END"
    sub = f"CASE {kind} WHEN 2 THEN 'normal' ELSE 'afventer_distribution_start' END"
    category = f"CASE {kind} WHEN 2 THEN 'closed' ELSE 'open' END"
    insert_tickets = f"""
        INSERT INTO tickets_ticket (desk_id, number, key, workflow_id, organisation_id,
            reporter_id, created_by_id, channel, type, priority, title, description, status,
            sub_status, previous_status, previous_sub, category, turn, active, flags, fields,
            cycle, progress_rank, version, created_at, updated_at, status_entered_at,
            last_activity_at)
        SELECT %(desk)s, n, 'DEPL-' || n, %(workflow)s, {org}, %(user)s, %(user)s, 'web',
            'fejl', 'normal', 'Generated ticket ' || n, '', {status}, {sub}, '', '',
            {category}, 'nobody', {yes}, {empty_list}, {fields}, 1, 0, 1, %(t0)s, %(t0)s,
            %(t0)s, %(t0)s
        FROM {rows}"""
    insert_fixes = f"""
        INSERT INTO releases_ticketfix (ticket_id, desk_id, organisation_id, release_id,
            line_id, position, kind, notes, open, created_at)
        SELECT id, desk_id, organisation_id, %(release)s, %(line)s, 10, 'fix', '{{}}',
            category = 'open', %(t0)s
        FROM tickets_ticket
        WHERE desk_id = %(desk)s AND number BETWEEN %(start)s AND %(end)s
            AND NOT (number > {concerned} AND number % 3 = 2)"""
    insert_fixes = insert_fixes.replace("number % 3", "number %% 3")
    step = 50_000
    with connection.cursor() as cursor:
        for start in range(have + 1, size + 1, step):
            params = {
                "desk": desk.pk,
                "workflow": desk.workflow_id,
                "a": orgs[0].pk,
                "b": orgs[1].pk,
                "user": user.pk,
                "t0": t0,
                "start": start,
                "end": min(start + step - 1, size),
                "release": fixed.pk,
                "line": line.pk,
            }
            cursor.execute(insert_tickets, params)
            cursor.execute(insert_fixes, params)
        Desk.objects.filter(pk=desk.pk).update(next_number=size + 1)
        if pg:
            cursor.execute("ANALYZE tickets_ticket")
            cursor.execute("ANALYZE releases_ticketfix")


def _numbered_models():
    return [
        m
        for m in apps.get_models()
        if m._meta.pk.get_internal_type() in ("AutoField", "BigAutoField") and m._meta.managed
    ]


def counts() -> dict:
    return {m: m._base_manager.count() for m in apps.get_models() if m._meta.managed}


def mark(desk, concerned: int) -> dict:
    """Before a committed delivery: each table's last id, and the concerned tickets' rows."""
    marks = {m: m._base_manager.aggregate(x=Max("pk"))["x"] or 0 for m in _numbered_models()}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_saved")
        cursor.execute(
            "CREATE TEMP TABLE bench_saved AS SELECT * FROM tickets_ticket "
            "WHERE desk_id = %s AND number <= %s",
            [desk.pk, concerned],
        )
    return marks


def put_back(marks: dict, env) -> None:
    """After it: remove every row added since `mark` (append-only tables included, their
    triggers off for this session) and restore the moved tickets' rows."""
    pg = connection.vendor == "postgresql"
    columns = [f.column for f in Ticket._meta.concrete_fields if not f.primary_key]
    assign = ", ".join(f'"{c}" = bench_saved."{c}"' for c in columns)
    Environment.objects.filter(pk=env.pk).update(current=None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SET session_replication_role = replica" if pg else "PRAGMA foreign_keys = OFF"
        )
        for model, last in marks.items():
            table, pk = model._meta.db_table, model._meta.pk.column
            cursor.execute(f'DELETE FROM "{table}" WHERE "{pk}" > %s', [last])
        cursor.execute(
            f"UPDATE tickets_ticket SET {assign} FROM bench_saved "
            "WHERE tickets_ticket.id = bench_saved.id"
        )
        cursor.execute("DROP TABLE bench_saved")
        cursor.execute(
            "SET session_replication_role = DEFAULT" if pg else "PRAGMA foreign_keys = ON"
        )


def timed_moves(samples: list[float]):
    """Time each ticket's move (its own transaction) as the delivery makes it."""
    move = delivery._move

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return move(*args, **kwargs)
        finally:
            samples.append((time.perf_counter() - started) * 1000)

    return move, timed


def server_cpu_s() -> float | None:
    """CPU seconds the PostgreSQL backend of this connection has used, when it runs on this
    machine (its /proc entry readable); None otherwise."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--concerned", type=int, default=1_000)
    parser.add_argument("--deliver", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--explain", action="store_true", help="print the finding read's plan at each size"
    )
    args = parser.parse_args()
    desk, orgs, user, line, releases, env = setup_base()
    print(f"{connection.vendor}, {args.concerned:,} concerned tickets\n")
    plans = []
    print(
        "| tickets | find concerned | statements | deliver all concerned | per ticket "
        "| per ticket, median | CPU per ticket: bench, database | load before, after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        started = time.perf_counter()
        grow(desk, orgs, user, line, releases["3.1.2"], size, args.concerned)
        print(f"built {size:,} in {time.perf_counter() - started:,.1f} s", file=sys.stderr)
        fixes = TicketFix.objects.filter(carried(releases["3.2"]), organisation_id=orgs[0].pk)

        def find(fixes=fixes) -> None:
            found = sum(1 for _ in _candidates(fixes, DEPLOYED, "TEST"))
            assert found == args.concerned, found

        find_ms = median_ms(find, 7)
        if args.explain:
            # ANALYZE runs the read on PostgreSQL; SQLite takes no options
            options = {"analyze": True} if connection.vendor == "postgresql" else {}
            ids = fixes.order_by().values_list("ticket_id", flat=True)
            batch = (
                Ticket.objects.filter(pk__in=sorted(ids)[:BATCH])
                .order_by("pk")
                .values_list("pk", "status", "sub_status", "workflow__checksum")
            )
            plans.append((size, ids.explain(**options), batch.explain(**options)))  # type: ignore[arg-type]
        with CaptureQueriesContext(connection) as queries:
            find()
        deliver_ms = per = median = load = cpus = ""
        if args.deliver:
            before = counts()
            marks = mark(desk, args.concerned)
            deployment = Deployment.objects.create(
                desk=desk,
                organisation=orgs[0],
                environment=env,
                release=releases["3.2"],
                deployed_at=T0,
                received_at=T0,
                pipeline_id=f"bench-{size}",
            )
            Environment.objects.filter(pk=env.pk).update(current=deployment)
            samples: list[float] = []
            move, delivery._move = timed_moves(samples)
            load_before = os.getloadavg()[0]
            server_before, cpu_before = server_cpu_s(), time.process_time()
            started = time.perf_counter()
            try:
                moved = deployment_deliver(deployment)  # autocommit: a transaction per ticket
            finally:
                took = (time.perf_counter() - started) * 1000
                cpu = (time.process_time() - cpu_before) * 1000
                delivery._move = move
            server_after = server_cpu_s()
            load = f"{load_before:.1f}, {os.getloadavg()[0]:.1f}"
            assert moved == args.concerned, moved
            put_back(marks, env)
            after = counts()
            assert before == after, {
                m: (before[m], after[m]) for m in before if before[m] != after[m]
            }
            find()  # every concerned ticket waits again
            deliver_ms = f"{took / 1000:,.1f} s"
            per = f"{took / moved:.2f} ms"
            median = f"{statistics.median(samples):.2f} ms"
            cpus = f"{cpu / moved:.2f} ms"
            if server_before is not None and server_after is not None:
                cpus += f", {(server_after - server_before) * 1000 / moved:.2f} ms"
        cells = [f"{size:,}", f"{find_ms:,.1f} ms", str(len(queries)), deliver_ms, per, median]
        print("| " + " | ".join([*cells, cpus, load]) + " |")
    for size, fixes_plan, batch_plan in plans:
        print(f"\nThe finding reads' plans at {size:,} tickets: the fixes\n\n{fixes_plan}\n")
        print(f"and a batch of {BATCH} of their tickets\n\n{batch_plan}")


if __name__ == "__main__":
    main()
