"""Benchmark: whole pages of the portal and the agent workspace at scale.

Builds N tickets like bench/lists.py (PostgreSQL), gives one ticket a realistic life
through the services (comments, notes, files, assignments, transitions), then renders the
main pages through Django's test client (URL routing, middleware, selectors, templates;
no network) and prints the median of `--repeat` renders after ten warm-up renders (a web
process's connection lives for many requests, and on PostgreSQL the kept reads are
prepared on it from their fifth use and planned once from their tenth), with the
number of SQL statements each page took. The processor time this process spent per render
(median) is printed beside it: on a machine shared with other work it moves less than the
wall-clock time (on SQLite it includes the database's work, on PostgreSQL not the
server's).

  psql -h 127.0.0.1 -U postgres -c "create database casedesk_pages"
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_pages \\
    .venv/bin/python bench/pages.py --size 1000000
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lists import build  # sets Django up

from casedesk.accounts.models import User
from casedesk.common import clock
from casedesk.desks.models import Desk
from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import TimeEntry, WorkKind
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import Ticket


def story(agent: User, customer: User) -> Ticket:
    """One ticket with a history and a service sheet: the page we time."""
    found = Ticket.objects.filter(title="Bench: the ticket page").first()
    if found:
        sheet(agent, found)
        service_levels()
        return found
    desk = Desk.objects.order_by("id").first()
    ticket = services.ticket_create(
        actor=customer,
        desk=desk,
        title="Bench: the ticket page",
        description="The **export** stops at 99 lines.",
        attachments=[BytesUpload("log.txt", b"line\n" * 100)],
    )
    for i in range(10):
        services.comment_add(actor=customer, ticket=ticket, body=f"More detail number {i}.")
        services.comment_add(actor=agent, ticket=ticket, body=f"Checked {i}.", internal=True)
        services.comment_add(actor=agent, ticket=ticket, body=f"Answer number {i}.")
    services.ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    services.ticket_transition(actor=agent, ticket=ticket, transition="start")
    services.ticket_transition(actor=agent, ticket=ticket, transition="resolve", comment="Done.")
    sheet(agent, ticket)
    service_levels()
    return ticket


def sheet(agent: User, ticket: Ticket) -> None:
    """Ten entries of two kinds of work on the ticket's service sheet."""
    if TimeEntry.objects.filter(ticket=ticket).exists():
        return
    for i, slug in enumerate(("consulting", "development")):
        WorkKind.objects.get_or_create(
            desk_id=ticket.desk_id, slug=slug, defaults={"labels": {"en": slug}, "position": i}
        )
    for i in range(10):
        sheet_services.work_log(
            actor=agent,
            ticket=ticket,
            minutes=15 + 5 * i,
            description=f"Work step {i}",
            kind=("consulting", "development")[i % 2],
        )


def service_levels() -> None:
    """Running SLA clocks on a tenth of the active tickets, due from 10 hours ago to 30
    hours ahead (so some are missed, some close), as the SLA code writes them on tickets."""
    if Ticket.objects.filter(sla_due_at__isnull=False).exists():
        return
    now = clock.now()
    if connection.vendor == "postgresql":
        at = "%(now)s::timestamptz + (({hours}) * interval '1 hour')"
    else:
        at = "strftime('%%Y-%%m-%%d %%H:%%M:%%S', %(now)s, ({hours}) || ' hours')"
        now = now.strftime("%Y-%m-%d %H:%M:%S")
    due = at.format(hours="((number / 10) %% 40) - 10")
    warn = at.format(hours="((number / 10) %% 40) - 14")
    sql = f"""UPDATE tickets_ticket SET sla_due_at = {due}, sla_warn_at = {warn},
        sla_breached_at = CASE WHEN (number / 10) %% 40 < 10 THEN {due} ELSE NULL END
        WHERE active AND number %% 10 = 0"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now})
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE tickets_ticket")


WARM_UP = 10


def measure(label: str, user: User, url: str, repeat: int) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(url).status_code == 200, url  # warm-up
    for _ in range(WARM_UP - 1):
        client.get(url)
    samples, cpu = [], []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(repeat):
            started, used = time.perf_counter(), time.process_time()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
    per_page = len(queries.captured_queries) // repeat
    print(
        f"| {label} | {statistics.median(samples):.1f} ms | {statistics.median(cpu):.1f} ms"
        f" | {per_page} |",
        flush=True,
    )


def pages(agent: User, customer: User, ticket: Ticket) -> list[tuple[str, User, str]]:
    """The pages timed here, as (label, who, address); tests/test_bench.py renders the
    same pages at a small size and checks their statement counts and query plans."""
    desk = ticket.desk_id
    rare = "tisk%C3%A1rna+42"
    return [
        ("customer: ticket page", customer, f"/portal/t/{ticket.key}/"),
        ("agent: ticket page", agent, f"/agent/t/{ticket.key}/"),
        ("customer: service sheet", customer, f"/tickets/{ticket.key}/sheet/"),
        ("agent: service sheet", agent, f"/tickets/{ticket.key}/sheet/"),
        ("customer: organisation's open tickets", customer, "/portal/"),
        ("customer: every state", customer, "/portal/?state=any"),
        ("customer: closed", customer, "/portal/?state=closed"),
        ("customer: waiting for me", customer, "/portal/?waiting=1&state=any"),
        ("customer: search ('invoice')", customer, "/portal/?q=invoice&state=any"),
        (
            "customer: search, word in every ticket ('fails')",
            customer,
            "/portal/?q=fails&state=any",
        ),
        ("agent: queue 'mine'", agent, "/agent/"),
        ("agent: queue 'my teams'", agent, "/agent/?queue=teams"),
        ("agent: queue 'unassigned'", agent, "/agent/?queue=unassigned"),
        ("agent: queue 'recently updated'", agent, "/agent/?queue=recent"),
        ("agent: queue 'all', every state", agent, "/agent/?queue=all&state=any"),
        ("agent: SLA, due first", agent, "/agent/?queue=all&sort=due"),
        ("agent: SLA, target missed", agent, "/agent/?queue=all&sla=breached"),
        ("agent: SLA, target close", agent, "/agent/?queue=all&sla=at_risk"),
        ("agent: search, common word ('printer')", agent, "/agent/?queue=all&state=any&q=printer"),
        (
            "agent: search, rare pair ('tiskárna 42')",
            agent,
            f"/agent/?queue=all&state=any&q={rare}",
        ),
        (
            "agent: search, word in every ticket ('fails')",
            agent,
            "/agent/?queue=all&state=any&q=fails",
        ),
        (
            "agent: queue 'all', one desk, status",
            agent,
            f"/agent/?queue=all&desk={desk}&status=open",
        ),
        ("agent: queue 'waiting for customer'", agent, "/agent/?queue=waiting"),
        ("status guide", customer, f"/portal/guide/{desk}/"),
        ("workflow diagram", agent, f"/agent/desks/{desk}/workflow/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS.append("testserver")
    logging.getLogger("casedesk.request").setLevel(logging.WARNING)  # one line per render
    agent, customer = build(args.size)
    ticket = story(agent, customer)
    print(f"{connection.vendor}, {Ticket.objects.count():,} tickets")
    print("| page | median | this process's CPU | statements |")
    print("|---|---:|---:|---:|")
    for label, user, url in pages(agent, customer, ticket):
        measure(label, user, url, args.repeat)


if __name__ == "__main__":
    main()
