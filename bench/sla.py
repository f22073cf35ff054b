"""Benchmark: what SLA clocks cost.

  fold, per event      the pure `step` of casedesk.workflow.sla on an 8x5 calendar, per
                       event, over 20-event ticket histories
  sweep, none due      sla_fire_due() when no clock is due (the worker's idle round)
  fire 100 due         firing 100 due breaches among N clocks (lock the ticket, re-read
                       the clock, mark it fired, the workflow's reaction or the history
                       note, the ticket's queue times), rolled back after each run

Builds N resolved tickets with bench/timers.py's generator, and one resolution clock per
ticket due 30 to 60 days after T0. Run against a scratch database:

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_bench \\
    .venv/bin/python bench/sla.py --sizes 10000 100000 1000000

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("bench_timers", HERE / "timers.py")
assert spec is not None and spec.loader is not None
timers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timers)  # sets up Django, as every bench script does

from django.db import connection, transaction

from casedesk.sla.firing import sla_breaches_fire, sla_fire_due
from casedesk.sla.models import TicketClock
from casedesk.workflow.calendar import weekly
from casedesk.workflow.sla import (
    Clocks,
    CustomerWrote,
    Moved,
    Opened,
    Replied,
    default_modes,
    step,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_DUE = T0 + timedelta(days=30)


def grow_clocks(desk, size: int) -> None:
    have = TicketClock.objects.filter(desk=desk).count()
    if have >= size:
        return
    if connection.vendor == "postgresql":
        due = "%(due)s::timestamptz + (number %% 43200) * interval '1 minute'"
        t0, false = T0, "false"
    else:
        due = "datetime(%(due)s, '+' || (number %% 43200) || ' minutes')"
        t0, false = "2026-01-01 00:00:00", "0"
    first = FIRST_DUE if connection.vendor == "postgresql" else "2026-01-31 00:00:00"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO sla_ticketclock (ticket_id, desk_id, seq, cycle, target,
                started_at, limit_seconds, used_seconds, measured_at, running, paused_by,
                breach_reason, due_at, fire_at, attempts, last_error)
            SELECT id, desk_id, 0, 1, 'resolution', %(t0)s, 3600, 0, %(t0)s, {false}, '',
                '', {due}, {due}, 0, ''
            FROM tickets_ticket t WHERE desk_id = %(desk)s AND NOT EXISTS (
                SELECT 1 FROM sla_ticketclock c WHERE c.ticket_id = t.id)""",
            {"t0": t0, "due": first, "desk": desk.pk},
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE sla_ticketclock")


def fold_per_event_us(tickets: int = 200, events: int = 20) -> float:
    """A ticket's history of `events` events (replies, customer messages, pauses), folded
    from the start, `tickets` times; the cost of one event."""
    cal = weekly("Europe/Amsterdam", {d: [("08:00", "17:00")] for d in range(5)})
    hour = timedelta(hours=1)
    plan = {
        "normal": {"first_response": 4 * hour, "next_response": 8 * hour, "resolution": 40 * hour}
    }
    open_, waiting = default_modes("open", "supplier"), default_modes("waiting", "customer")
    at = T0
    stream = [Opened(at, "normal", "open", open_)]
    for i in range(events - 1):
        at += timedelta(minutes=97)
        kinds = [
            Replied(at),
            CustomerWrote(at),
            Moved(at, "waiting", waiting),
            Moved(at, "open", open_),
        ]
        stream.append(kinds[i % 4])
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ticket in range(tickets):
            state = Clocks(plan=plan)
            for event in stream:
                state = step(cal, state, event)
        samples.append((time.perf_counter() - started) / (tickets * len(stream)) * 1e6)
    return statistics.median(samples)


def sweep_none_due() -> None:
    assert sla_fire_due(now=FIRST_DUE - timedelta(seconds=1)) == 0


def fire_hundred_due() -> int:
    now = TicketClock.objects.order_by("fire_at").values_list("fire_at", flat=True)[99]
    with transaction.atomic():
        fired = sla_breaches_fire(now=now)
        transaction.set_rollback(True)
    assert fired >= 100, fired
    return fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    desk, org, user = timers.setup_base()
    print(f"database: {connection.vendor}; fold: {fold_per_event_us():.1f} µs per event")
    print(
        "| tickets with a clock | sweep, none due | per fired clock (of 100+ due) "
        "| per fired clock, worker CPU |"
    )
    print("|---:|---:|---:|---:|")
    for size in sorted(args.sizes):
        started = time.perf_counter()
        timers.grow(desk, org, user, size)
        grow_clocks(desk, size)
        print(f"<!-- built {size} in {time.perf_counter() - started:.1f} s -->", file=sys.stderr)
        idle = timers.median_ms(sweep_none_due, args.repeat)
        each, cpu = timers.per_item_ms(fire_hundred_due, max(3, args.repeat // 3))
        print(f"| {size:,} | {idle:.2f} ms | {each:.2f} ms | {cpu:.2f} ms |", flush=True)


if __name__ == "__main__":
    main()
