"""Benchmark: tickets created through the service against raw writes of the same rows.

Builds a desk of the default workflow with one customer, then measures, one transaction
per ticket:

  service      `ticket_create()` by the customer (checks, number, ticket row, history
               entry, outbox items, timer and SLA rows: whatever it writes)
  raw writes   the very INSERT and UPDATE statements one `ticket_create()` made, read
               from a statement log and replayed with fresh keys and numbers (the ids
               each INSERT returned are put where later statements used the old ones)

and prints tickets per second of each and their ratio, by wall and by processor time
(this process only; other people's work on the machine shows in wall time).

  CASEDESK_DATA_DIR=/tmp/casedesk-create .venv/bin/python bench/create.py
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_create \\
    .venv/bin/python bench/create.py --tickets 200 --runs 5

With PYTHONPATH set (an older checkout), that code is measured by this script.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

HERE = str(Path(__file__).resolve().parent.parent)
if os.environ.get("PYTHONPATH"):
    sys.path.append(HERE)
else:
    sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk
from casedesk.desks.services import desk_create, preset_store
from casedesk.tickets.services import ticket_create

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
_TABLE = re.compile(r'^\s*INSERT\s+INTO\s+"?(\w+)"?', re.I)


def setup():
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="CRB").first()
    if desk is None:
        desk = desk_create(name="Create bench", key_prefix="CRB", workflow=preset_store("default"))
    org, _ = Organisation.objects.get_or_create(slug="crb", defaults={"name": "Create bench"})
    desk.organisations.add(org)
    customer = User.objects.filter(username="crb-customer").first() or User.objects.create_user(
        "crb-customer", "customer@create.example", kind="customer", organisation=org,
        customer_role="member",
    )  # fmt: skip
    # numbers far from any id, so the replay cannot take one for the other
    Desk.objects.filter(pk=desk.pk, next_number__lt=1_000_000).update(next_number=1_000_000)
    while desk.tickets.count() < 100:  # ids past the few of users, desks and workflows
        ticket_create(actor=customer, desk=desk, title="Warming up")
    return Desk.objects.get(pk=desk.pk), customer


def capture(desk, customer):
    """The writes of one creation, with the ids its INSERTs made (by table, in order)."""
    writes: list[tuple[str, list]] = []

    def log(execute, sql, params, many, context):
        if _WRITE.match(sql) and not many:
            writes.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(log):
        ticket = ticket_create(actor=customer, desk=desk, title="Printer jams on page two")
    counts: dict[str, int] = {}
    for sql, _ in writes:
        found = _TABLE.match(sql)
        if found:
            counts[found.group(1)] = counts.get(found.group(1), 0) + 1
    made: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        for table, n in counts.items():
            q = connection.ops.quote_name
            cursor.execute(f"SELECT {q('id')} FROM {q(table)} ORDER BY {q('id')} DESC LIMIT {n}")
            made[table] = sorted(r[0] for r in cursor.fetchall())
    return ticket, writes, made


def replayer(ticket, writes, made):
    """A function that writes the same rows again, for a new number each call."""
    old_ids = {v for ids in made.values() for v in ids}
    plain = {ticket.number, *old_ids}
    if len(plain) != len(old_ids) + 1:
        return None  # an id equals another id or the number: ambiguous, capture again
    order = {table: list(ids) for table, ids in made.items()}

    def replay(number: int) -> None:
        key = f"{ticket.desk.key_prefix}-{number}"
        swap: dict = {ticket.number: number, ticket.key: key}
        queue = {table: list(ids) for table, ids in order.items()}
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in writes:
                values = [
                    swap.get(p, p) if isinstance(p, (int, str)) and not isinstance(p, bool) else p
                    for p in params
                ]
                cursor.execute(sql, values)
                found = _TABLE.match(sql)
                if found:
                    old_id = queue[found.group(1)].pop(0)
                    if (
                        "RETURNING" in sql.upper()
                        and connection.features.can_return_columns_from_insert
                    ):
                        swap[old_id] = cursor.fetchone()[0]
                    elif connection.vendor == "sqlite":
                        swap[old_id] = cursor.lastrowid
                    # (elsewhere an INSERT without RETURNING gave the code no id to use later)

    return replay


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    desk, customer = setup()
    replay = None
    for _ in range(50):
        ticket, writes, made = capture(desk, customer)
        replay = replayer(ticket, writes, made)
        if replay is not None:
            break
    assert replay is not None, "no capture without ambiguous ids"
    tables = sorted({m.group(1) for sql, _ in writes if (m := _TABLE.match(sql))})
    number = 10_000_000 + int(time.time()) % 1_000_000 * 1000
    service, raw, cpu_service, cpu_raw = [], [], [], []
    for run in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(args.tickets):
            ticket_create(actor=customer, desk=desk, title=f"Printer {run}-{i}")
        t1, c1 = time.perf_counter(), time.process_time()
        for _ in range(args.tickets):
            number += 1
            replay(number)
        t2, c2 = time.perf_counter(), time.process_time()
        service.append(args.tickets / (t1 - t0))
        raw.append(args.tickets / (t2 - t1))
        cpu_service.append(args.tickets / max(c1 - c0, 1e-9))
        cpu_raw.append(args.tickets / max(c2 - c1, 1e-9))
    print(
        f"{connection.vendor}, {args.tickets} tickets per run, median of {args.runs} runs; "
        f"{len(writes)} writes per creation ({', '.join(tables)})\n"
    )
    print("| | service tickets/s | raw writes tickets/s | service / raw |")
    print("|---|---:|---:|---:|")
    for label, a, b in (("wall", service, raw), ("processor", cpu_service, cpu_raw)):
        s, r = statistics.median(a), statistics.median(b)
        print(f"| {label} | {s:,.0f} | {r:,.0f} | {100 * s / r:.0f} % |")


if __name__ == "__main__":
    main()
