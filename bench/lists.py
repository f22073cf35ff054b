"""Benchmark: ticket lists and keyword search at scale, through `ticket_page_for_actor`.

Builds N tickets over 5 desks and 20 organisations (titles and descriptions drawn from a
word list, updates spread over a year), then measures the first page (50 tickets) of the
lists the portal, the agent workspace and the API serve, plus a page deep into a list, and
keyword searches for a common and a rare word. Each figure is the median of `--repeat`
runs after one warm-up, with the number of SQL statements the page took.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_lists \\
    .venv/bin/python bench/lists.py --size 1000000
"""

from __future__ import annotations

import argparse
import json
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

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk, StaffMembership
from casedesk.desks.services import desk_create, preset_store
from casedesk.tickets.models import Ticket
from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import ticket_page_for_actor

T0 = datetime(2025, 11, 1, tzinfo=UTC)
WORDS = [
    "printer",
    "invoice",
    "login",
    "export",
    "report",
    "ledger",
    "backup",
    "password",
    "scanner",
    "network",
    "update",
    "license",
    "mailbox",
    "calendar",
    "payroll",
    "archive",
    "faktura",
    "rapport",
    "storing",
    "polis",
    "tiskárna",
    "faktury",
    "lösenord",
    "skrivare",
]
STATUSES = [  # status, category, turn of the default workflow, with rough frequencies
    ("closed", "closed", "nobody"),
    ("closed", "closed", "nobody"),
    ("closed", "closed", "nobody"),
    ("closed", "closed", "nobody"),
    ("resolved", "resolved", "customer"),
    ("open", "open", "supplier"),
    ("new", "new", "supplier"),
    ("waiting_customer", "waiting", "customer"),
]


def build(size: int, migrate: bool = True) -> tuple[User, User]:
    if migrate:  # the smoke test (tests/test_bench.py) runs in its migrated test database
        call_command("migrate", verbosity=0)
    agent = User.objects.filter(username="bench-agent").first()
    if agent is None:
        agent = User.objects.create_user("bench-agent", kind="staff")
        orgs = [Organisation.objects.create(name=f"Org {i}", slug=f"org-{i}") for i in range(20)]
        for i in range(5):
            desk = desk_create(
                name=f"Desk {i}", key_prefix=f"D{i}X", workflow=preset_store("default")
            )
            desk.organisations.set(orgs)
            StaffMembership.objects.create(desk=desk, user=agent, role="agent")
        for org in orgs:
            User.objects.create_user(
                f"bench-{org.slug}", kind="customer", organisation=org, customer_role="member"
            )
    customer = User.objects.get(username="bench-org-3")
    have = Ticket.objects.count()
    if have < size:
        desks = list(Desk.objects.order_by("id").values_list("id", "key_prefix", "workflow_id"))
        orgs = list(Organisation.objects.order_by("id").values_list("id", flat=True))
        users = dict(User.objects.filter(kind="customer").values_list("organisation_id", "id"))
        _insert(have, size, desks, orgs, users, agent.pk)
    return agent, customer


def _insert(have, size, desks, orgs, users, agent_id) -> None:
    postgres = connection.vendor == "postgresql"
    if postgres:
        rows = "generate_series(%(start)s, %(end)s) AS n"
        spread = "%(t0)s::timestamptz + ((n::bigint * 7919) %% 31536000) * interval '1 second'"
        t0, words = T0, "(ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "])"
        pick = lambda expr: f"{words}[1 + ({expr}) %% {len(WORDS)}]"  # noqa: E731
        array = lambda values: "(ARRAY[" + ",".join(str(v) for v in values) + "])"  # noqa: E731
        index = lambda arr, expr, n: f"{arr}[1 + ({expr}) %% {n}]"  # noqa: E731
        empty, empty_list = "'{}'::jsonb", "'[]'::jsonb"
        title = f"initcap({pick('n / 7')})"
    else:  # SQLite: a recursive count, arrays as JSON, times as Django stores them
        rows = "numbers AS n"
        spread = (
            "strftime('%%Y-%%m-%%d %%H:%%M:%%S', %(t0)s,"
            " '+' || ((n * 7919) %% 31536000) || ' seconds')"
        )
        t0 = T0.strftime("%Y-%m-%d %H:%M:%S")
        words = "'[" + ",".join(f'"{w}"' for w in WORDS) + "]'"
        pick = lambda expr: f"json_extract({words}, '$[' || (({expr}) %% {len(WORDS)}) || ']')"  # noqa: E731
        array = lambda values: "'[" + ",".join(json.dumps(v) for v in values) + "]'"  # noqa: E731
        index = lambda arr, expr, n: f"json_extract({arr}, '$[' || (({expr}) %% {n}) || ']')"  # noqa: E731
        empty, empty_list = "'{}'", "'[]'"
        title = f"upper(substr({pick('n / 7')}, 1, 1)) || substr({pick('n / 7')}, 2)"
    desk_ids = array([d[0] for d in desks])
    workflow_ids = array([d[2] for d in desks])
    org_ids = array(orgs)
    reporter_ids = array([users[o] for o in orgs])
    if postgres:
        strings = lambda values: "(ARRAY[" + ",".join(f"'{v}'" for v in values) + "])"  # noqa: E731
    else:
        strings = array
    prefixes = strings([d[1] for d in desks])
    status = strings([s[0] for s in STATUSES])
    category = strings([s[1] for s in STATUSES])
    turn = strings([s[2] for s in STATUSES])
    numbers = (
        ""
        if postgres
        else "WITH RECURSIVE numbers(n) AS (SELECT %(start)s UNION ALL"
        " SELECT n + 1 FROM numbers WHERE n < %(end)s) "
    )
    sql = f"""{numbers}
        INSERT INTO tickets_ticket (desk_id, number, key, workflow_id, organisation_id,
            reporter_id, created_by_id, channel, type, priority, title, description, status,
            sub_status, previous_status, previous_sub, category, turn, active, flags, fields,
            cycle, progress_rank, version, created_at, updated_at, status_entered_at,
            last_activity_at, assignee_id)
        SELECT {index(desk_ids, "n", 5)}, n, {index(prefixes, "n", 5)} || '-' || n,
            {index(workflow_ids, "n", 5)}, {index(org_ids, "n / 5", 20)},
            {index(reporter_ids, "n / 5", 20)}, {index(reporter_ids, "n / 5", 20)}, 'web',
            'incident', 'normal',
            {title} || ' ' || {pick("n / 3")} || ' fails at ' || (n %% 97),
            'Seen by ' || {pick("n / 11")} || ' after the ' || {pick("n / 13")} || ' change',
            {index(status, "n / 3", len(STATUSES))}, '', '', '',
            {index(category, "n / 3", len(STATUSES))}, {index(turn, "n / 3", len(STATUSES))},
            {index(category, "n / 3", len(STATUSES))} NOT IN ('closed', 'cancelled'),
            {empty_list}, {empty}, 1, 0, 1, {spread}, {spread}, {spread}, {spread},
            CASE WHEN n %% 4 = 0 THEN {agent_id} ELSE NULL END
        FROM {rows}"""
    step = 100_000
    with connection.cursor() as cursor:
        for start in range(have + 1, size + 1, step):
            cursor.execute(sql, {"start": start, "end": min(start + step - 1, size), "t0": t0})
            print(f"<!-- {min(start + step - 1, size):,} tickets -->", file=sys.stderr, flush=True)
        if postgres:
            cursor.execute("ANALYZE tickets_ticket")


def measure(label: str, user: User, filters: TicketFilters, repeat: int, deep: bool = False):
    cursor = None
    if deep:  # walk 100 pages in, then time the 101st
        for _ in range(100):
            cursor = ticket_page_for_actor(
                user=user, filters=filters, cursor=cursor, limit=50
            ).next_cursor
    ticket_page_for_actor(user=user, filters=filters, cursor=cursor, limit=50)  # warm-up
    samples = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(repeat):
            started = time.perf_counter()
            found = ticket_page_for_actor(user=user, filters=filters, cursor=cursor, limit=50)
            samples.append((time.perf_counter() - started) * 1000)
    per_page = len(queries.captured_queries) // repeat
    print(
        f"| {label} | {statistics.median(samples):.1f} ms | {len(found.tickets)} | {per_page} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    agent, customer = build(args.size)
    n = Ticket.objects.count()
    print(f"{connection.vendor}, {n:,} tickets")
    print("| page | median | rows | statements |")
    print("|---|---:|---:|---:|")
    r = args.repeat
    measure("agent: all their desks, newest first", agent, TicketFilters(), r)
    measure("agent: assigned to me, open", agent, TicketFilters(assignee="me", open=True), r)
    measure(
        "agent: one desk, status 'open'",
        agent,
        TicketFilters(desk=Desk.objects.order_by("id").first().pk, status="open"),
        r,
    )
    measure("agent: waiting for the customer", agent, TicketFilters(turn="customer"), r)
    measure("agent: page 101 of all their desks", agent, TicketFilters(), r, deep=True)
    measure("customer: their organisation, newest first", customer, TicketFilters(), r)
    measure("customer: their open tickets", customer, TicketFilters(open=True), r)
    first_desk = Desk.objects.order_by("id").first().pk
    measure("agent: one desk, active", agent, TicketFilters(desk=first_desk, active=True), r)
    measure("agent: all their desks, inactive", agent, TicketFilters(active=False), r)
    measure("customer: their active tickets", customer, TicketFilters(active=True), r)
    measure("customer: their inactive tickets", customer, TicketFilters(active=False), r)
    measure("search, common word ('printer')", agent, TicketFilters(text="printer"), r)
    measure("search, two words ('printer ledger')", agent, TicketFilters(text="printer ledger"), r)
    measure("search, rare pair ('tiskárna 42')", agent, TicketFilters(text="tiskárna 42"), r)
    measure("search, a word in every ticket ('fails 42')", agent, TicketFilters(text="fails 42"), r)
    measure("search by key ('D2X-1002')", agent, TicketFilters(text="D2X-1002"), r)
    measure("customer search ('invoice')", customer, TicketFilters(text="invoice"), r)


if __name__ == "__main__":
    main()
