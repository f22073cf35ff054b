"""Benchmark: what a timer sweep costs as the number of tickets grows.

Builds N resolved tickets on the default workflow, each with its quiet-close timer set
(a week ahead, spread over time), and measures:

  sweep, none due      timers_fire_due() when nothing is due (the worker's idle round)
  sweep, 100 due       firing 100 due timers among N (rolled back after each run)
  naive scan           the alternative design: read every open ticket and ask the engine
                       for its next timer (what "evaluate every ticket" would cost)

Run against a scratch database (it is filled with generated rows):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_bench \\
    .venv/bin/python bench/timers.py --sizes 10000 100000 1000000

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk
from casedesk.desks.services import desk_create, preset_store
from casedesk.tickets.bridge import snapshot, workflow_of
from casedesk.tickets.models import Ticket, TicketTimer
from casedesk.tickets.timers import timers_fire_due
from casedesk.workflow import next_timer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def setup_base() -> tuple[Desk, Organisation, User]:
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="BENCH").first()
    if desk is None:
        desk = desk_create(name="Bench", key_prefix="BENCH", workflow=preset_store("default"))
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    desk.organisations.add(org)
    user = User.objects.filter(username="bench").first() or User.objects.create_user(
        "bench", kind="customer", organisation=org, customer_role="member"
    )
    return desk, org, user


def grow(desk: Desk, org: Organisation, user: User, size: int) -> None:
    """Add generated resolved tickets (and their timers) until there are `size`.

    Ticket n was last active n minutes after T0 (modulo 30 days), so its quiet-close timer
    is due 7 to 37 days after T0, and a sweep at T0 + 7 days finds nothing due."""
    have = Ticket.objects.filter(desk=desk).count()
    if have >= size:
        return
    if connection.vendor == "postgresql":
        rows = "generate_series(%(start)s, %(end)s) AS n"
        active = "%(t0)s::timestamptz + (n %% 43200) * interval '1 minute'"
        due = "last_activity_at + interval '7 days'"
        t0, empty, empty_list, yes = T0, "'{}'::jsonb", "'[]'::jsonb", "true"
    else:
        rows = (
            "(WITH RECURSIVE s(n) AS (SELECT %(start)s UNION ALL SELECT n + 1 FROM s "
            "WHERE n < %(end)s) SELECT n FROM s)"
        )
        active = "datetime(%(t0)s, '+' || (n %% 43200) || ' minutes')"
        due = "datetime(last_activity_at, '+7 days')"
        t0, empty, empty_list, yes = "2026-01-01 00:00:00", "'{}'", "'[]'", "1"
    insert_tickets = f"""
        INSERT INTO tickets_ticket (desk_id, number, key, workflow_id, organisation_id,
            reporter_id, created_by_id, channel, type, priority, title, description, status,
            sub_status, previous_status, previous_sub, category, turn, active, flags, fields,
            cycle, progress_rank, version, created_at, updated_at, status_entered_at,
            last_activity_at)
        SELECT %(desk)s, n, 'BENCH-' || n, %(workflow)s, %(org)s, %(user)s, %(user)s, 'web',
            'incident', 'normal', 'Generated ticket ' || n, '', 'resolved', '', 'open', '',
            'resolved', 'customer', {yes}, {empty_list}, {empty}, 1, 0, 1, %(t0)s, %(t0)s,
            %(t0)s, {active}
        FROM {rows}"""
    insert_timers = f"""
        INSERT INTO tickets_tickettimer (ticket_id, desk_id, timer, transition, due_at,
            ticket_version, attempts, last_error)
        SELECT id, desk_id, 'quiet_close', 'auto_close', {due}, 1, 0, ''
        FROM tickets_ticket WHERE desk_id = %(desk)s AND number BETWEEN %(start)s AND %(end)s"""
    step = 50_000
    with connection.cursor() as cursor:
        for start in range(have + 1, size + 1, step):
            params = {
                "desk": desk.pk,
                "workflow": desk.workflow_id,
                "org": org.pk,
                "user": user.pk,
                "t0": t0,
                "start": start,
                "end": min(start + step - 1, size),
            }
            cursor.execute(insert_tickets, params)
            cursor.execute(insert_timers, params)
        Desk.objects.filter(pk=desk.pk).update(next_number=size + 1)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE tickets_ticket")
            cursor.execute("ANALYZE tickets_tickettimer")


def median_ms(fn, repeat: int) -> float:
    return medians_ms(fn, repeat)[0]


def medians_ms(fn, repeat: int) -> tuple[float, float]:
    """Medians of `repeat` runs: wall-clock time, and this process's processor time (the
    worker's own cost, which other work on the machine does not inflate; on SQLite it
    includes the database's work, on PostgreSQL the server's is not in it)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def per_item_ms(fn, repeat: int) -> tuple[float, float]:
    """Medians of `repeat` runs of `fn`, which returns how many items it handled: wall
    time and processor time per item (a sweep at the 100th due time fires every item due
    by then, a few more than 100 where several share that minute)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        count = fn()
        cpu.append((time.process_time() - started_cpu) * 1000 / count)
        wall.append((time.perf_counter() - started) * 1000 / count)
    return statistics.median(wall), statistics.median(cpu)


def sweep_none_due() -> None:
    assert timers_fire_due(now=T0 + timedelta(days=7) - timedelta(seconds=1)) == 0


def sweep_hundred_due() -> int:
    first = TicketTimer.objects.order_by("due_at").values_list("due_at", flat=True)[99]
    with transaction.atomic():
        fired = timers_fire_due(now=first)
        transaction.set_rollback(True)
    assert fired >= 100, fired
    return fired


def naive_scan(desk: Desk) -> None:
    due = 0
    for ticket in (
        Ticket.objects.filter(desk=desk)
        .exclude(category__in=("closed", "cancelled"))
        .select_related("workflow")
        .iterator(chunk_size=5000)
    ):
        if next_timer(workflow_of(ticket), snapshot(ticket)) is not None:
            due += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--naive-up-to", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    desk, org, user = setup_base()
    print(f"database: {connection.vendor}")
    print(
        "| tickets | find due work: indexed sweep | find due work: naive scan | ratio "
        "| per fired timer (of 100+ due) | per fired timer, worker CPU |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sorted(args.sizes):
        started = time.perf_counter()
        grow(desk, org, user, size)
        print(
            f"<!-- built {size} tickets in {time.perf_counter() - started:.1f} s -->",
            file=sys.stderr,
        )
        idle = median_ms(sweep_none_due, args.repeat)
        each, each_cpu = per_item_ms(sweep_hundred_due, max(5, args.repeat // 3))
        if size <= args.naive_up_to:
            naive = median_ms(lambda: naive_scan(desk), 3)
            naive_text, ratio = f"{naive:,.0f} ms", f"{naive / idle:,.0f}x"
        else:
            naive_text, ratio = "not run", ""
        print(
            f"| {size:,} | {idle:.2f} ms | {naive_text} | {ratio} | {each:.2f} ms "
            f"| {each_cpu:.2f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
