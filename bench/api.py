"""Benchmark: create, list, read and transition through the REST API, over real HTTP.

Starts the application under waitress on 127.0.0.1 (a free port) in this process, fills a
scratch database with N tickets through the services, and times each call from the
client's side: request, authentication by token, the per-token rate counter, the service
or selector, and the JSON answer. Next to each, the same work called directly (service or
selector, no HTTP, no token), so the table shows what the API layer costs on top. Medians
of `--repeat` runs after a warm-up.

  # PostgreSQL (a scratch database; it is filled with generated rows)
  psql -h 127.0.0.1 -U postgres -c "create database casedesk_api"
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_api .venv/bin/python bench/api.py
  # SQLite (a fresh data directory)
  CASEDESK_DATA_DIR=/tmp/casedesk-api .venv/bin/python bench/api.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.core.management import call_command
from waitress import create_server

from casedesk.accounts.models import Organisation, User
from casedesk.api.models import ApiToken
from casedesk.api.tokens import token_create
from casedesk.desks.models import Desk, StaffMembership
from casedesk.desks.services import desk_create, preset_store
from casedesk.tickets import selectors, services
from casedesk.tickets.models import Ticket
from casedesk.tickets.search import TicketFilters
from casedesk.wsgi import application

WORDS = ["printer", "invoice", "login", "export", "report", "ledger", "backup", "scanner"]


def setup(size: int):
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="BAPI").first()
    if desk is None:
        org = Organisation.objects.create(name="Bench Org", slug="bench-org")
        desk = desk_create(name="Bench API", key_prefix="BAPI", workflow=preset_store("default"))
        desk.organisations.set([org])
        customer = User.objects.create_user(
            "bench-customer", kind="customer", organisation=org, customer_role="member"
        )
        agent = User.objects.create_user("bench-agent", kind="staff")
        StaffMembership.objects.create(desk=desk, user=agent, role="agent")
    customer = User.objects.get(username="bench-customer")
    agent = User.objects.get(username="bench-agent")
    have = Ticket.objects.filter(desk=desk).count()
    for n in range(have, size):
        services.ticket_create(
            actor=customer,
            desk=desk,
            title=f"{WORDS[n % len(WORDS)]} {n} fails",
            description=f"{WORDS[(n * 7) % len(WORDS)]} since the update",
        )
        if n % 1000 == 999:
            print(f"  {n + 1} tickets", file=sys.stderr, flush=True)
    if django.db.connection.vendor == "postgresql":
        with django.db.connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them
    tokens = {}
    for user in (customer, agent):
        token, secret = token_create(actor=user, user=user, name="bench", scope="write")
        ApiToken.objects.filter(pk=token.pk).update(rate_limit=10**9)
        tokens[user.pk] = secret
    return desk, customer, agent, tokens


class Client:
    def __init__(self, port: int, secret: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, f"/api/v1/{path}", body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)


def timed(action, repeat: int) -> float:
    action()  # warm-up
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=51)
    args = parser.parse_args()
    desk, customer, agent, tokens = setup(args.size)
    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    port = server.effective_port
    threading.Thread(target=server.run, daemon=True).start()
    as_customer, as_agent = Client(port, tokens[customer.pk]), Client(port, tokens[agent.pk])

    fresh: list[str] = []

    def api_create():
        made = as_customer.call("POST", "tickets", {"desk": desk.pk, "title": "printer jam"})
        fresh.append(made["key"])

    def direct_create():
        t = services.ticket_create(actor=customer, desk=desk, title="printer jam")
        fresh.append(t.key)

    def api_transition():
        key = fresh.pop()
        as_agent.call(
            "POST", f"tickets/{key}/transitions", {"transition": "start", "assignee": agent.pk}
        )

    def direct_transition():
        ticket = selectors.ticket_get_for_actor(user=agent, key=fresh.pop())
        services.ticket_transition(actor=agent, ticket=ticket, transition="start", assignee=agent)

    def direct_page(filters):
        found = selectors.ticket_page_for_actor(user=agent, filters=filters, limit=50)
        for t in found.tickets:
            selectors.fields_for(user=agent, ticket=t)

    key = Ticket.objects.filter(desk=desk).order_by("-id").values_list("key", flat=True)[100]

    def direct_read():
        t = selectors.ticket_get_for_actor(user=agent, key=key)
        selectors.next_step_for(user=agent, ticket=t, lang="en")
        selectors.fields_for(user=agent, ticket=t)

    rows = [
        ("create a ticket (customer)", api_create, direct_create),
        ("make a transition (agent: start work)", api_transition, direct_transition),
        (
            "list: first page of 50 (agent)",
            lambda: as_agent.call("GET", "tickets?limit=50"),
            lambda: direct_page(TicketFilters()),
        ),
        (
            "list: search 'printer', 50 (agent)",
            lambda: as_agent.call("GET", "tickets?limit=50&q=printer"),
            lambda: direct_page(TicketFilters(text="printer")),
        ),
        (
            "list: first page of 50 (customer)",
            lambda: as_customer.call("GET", "tickets?limit=50"),
            lambda: selectors.ticket_page_for_actor(user=customer, limit=50),
        ),
        (
            "read one ticket with its next step (agent)",
            lambda: as_agent.call("GET", f"tickets/{key}"),
            direct_read,
        ),
    ]
    engine = django.db.connection.vendor
    print(
        f"\n{engine}, {Ticket.objects.filter(desk=desk).count():,} tickets, "
        f"medians of {args.repeat} runs\n"
    )
    print("| call | through the API | direct | API layer |")
    print("|---|---:|---:|---:|")
    for label, api_call, direct in rows:
        api_ms = timed(api_call, args.repeat)
        direct_ms = timed(direct, args.repeat)
        print(f"| {label} | {api_ms:.1f} ms | {direct_ms:.1f} ms | {api_ms - direct_ms:+.1f} ms |")
    server.close()


if __name__ == "__main__":
    main()
