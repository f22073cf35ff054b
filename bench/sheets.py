"""Benchmark: the service sheet at size.

  export     the invoice basis of one organisation for one month with 5,000 approved
             entries (250 tickets, 20 entries each): the preview, its CSV and its XLSX
  page       the agent's ticket page with 20 and with 200 entries on the ticket's sheet:
             its time and its number of SQL statements, which must not grow

Run against a scratch database (it is filled with generated rows):

  psql -h 127.0.0.1 -U postgres -c "create database casedesk_sheets"
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_sheets \\
    .venv/bin/python bench/sheets.py
  CASEDESK_DATA_DIR=/tmp/casedesk-sheets .venv/bin/python bench/sheets.py

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import Organisation, User
from casedesk.common import clock
from casedesk.desks.models import Desk, StaffMembership
from casedesk.desks.services import desk_create, preset_store
from casedesk.sheets import invoicing
from casedesk.sheets.models import RoundingRule, Sheet, TimeEntry, WorkKind
from casedesk.tickets import services

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MONTH = (date(2026, 11, 1), date(2026, 11, 30))


def base():
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="SHB").first()
    if desk is None:
        desk = desk_create(name="Sheets", key_prefix="SHB", workflow=preset_store("servisni_list"))
    org, _ = Organisation.objects.get_or_create(slug="sheets", defaults={"name": "Sheets"})
    desk.organisations.add(org)
    customer = User.objects.filter(username="sheets-customer").first() or User.objects.create_user(
        "sheets-customer", kind="customer", organisation=org, customer_role="member"
    )
    lead = User.objects.filter(username="sheets-lead").first() or User.objects.create_user(
        "sheets-lead", kind="staff"
    )
    StaffMembership.objects.get_or_create(desk=desk, user=lead, defaults={"role": "lead"})
    kinds = [
        WorkKind.objects.get_or_create(desk=desk, slug=s, defaults={"labels": {"en": s}})[0]
        for s in ("consulting", "development", "travel")
    ]
    RoundingRule.objects.get_or_create(organisation=org, kind=None, defaults={"increment": 15})
    return desk, org, customer, lead, kinds


def fill(desk, org, customer, lead, kinds, tickets: int, per: int, approve: bool) -> list:
    """Tickets with `per` entries each on their sheet, spread over the month."""
    made = []
    with clock.frozen(T0):
        for i in range(tickets):
            t = services.ticket_create(actor=customer, desk=desk, title=f"Bench sheet {i}")
            sheet = Sheet.objects.create(
                ticket=t, desk=desk, organisation=org, cycle=1, opened_at=T0
            )
            TimeEntry.objects.bulk_create(
                TimeEntry(
                    sheet=sheet,
                    ticket=t,
                    desk=desk,
                    organisation=org,
                    worker=lead,
                    logged_by=lead,
                    day=MONTH[0] + timedelta(days=(i + n) % 30),
                    minutes=5 + (i * 7 + n * 13) % 240,
                    kind=kinds[n % len(kinds)],
                    billable=n % 5 != 0,
                    description=f"Work {n} on ticket {i}",
                    created_at=T0,
                )
                for n in range(per)
            )
            if approve:
                Sheet.objects.filter(pk=sheet.pk).update(state="approved", approved_at=T0)
            made.append(t)
    return made


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    desk, org, customer, lead, kinds = base()
    if not TimeEntry.objects.filter(organisation=org, sheet__state="approved").exists():
        fill(desk, org, customer, lead, kinds, tickets=250, per=20, approve=True)
    entries = TimeEntry.objects.filter(organisation=org, sheet__state="approved").count()
    basis = invoicing.invoice_basis(user=lead, organisation_id=org.pk, start=MONTH[0], end=MONTH[1])
    rows = [
        (
            f"export preview, {entries:,} entries",
            median_ms(
                lambda: invoicing.invoice_basis(
                    user=lead, organisation_id=org.pk, start=MONTH[0], end=MONTH[1]
                ),
                args.repeat,
            ),
            "",
        ),
        (
            f"export CSV, {len(basis.rows):,} rows",
            median_ms(lambda: invoicing.basis_csv(basis), args.repeat),
            "",
        ),
        (
            f"export XLSX, {len(basis.rows):,} rows",
            median_ms(lambda: invoicing.basis_xlsx(basis, T0), args.repeat),
            "",
        ),
        (
            "export preview + CSV + XLSX",
            median_ms(
                lambda: (
                    invoicing.basis_xlsx(
                        b := invoicing.invoice_basis(
                            user=lead, organisation_id=org.pk, start=MONTH[0], end=MONTH[1]
                        ),
                        T0,
                    ),
                    invoicing.basis_csv(b),
                ),
                args.repeat,
            ),
            "",
        ),
    ]
    client = Client()
    client.force_login(lead)
    for per in (20, 200):
        page = Sheet.objects.filter(ticket__title=f"Bench page {per}").first()
        if page is None:
            with clock.frozen(T0):
                (t,) = fill(desk, org, customer, lead, kinds, tickets=1, per=per, approve=False)
                t.title = f"Bench page {per}"
                t.save(update_fields=["title"])
            ticket = t
        else:
            ticket = page.ticket
        url = f"/agent/t/{ticket.key}/"
        reset_queries()  # a request starts by emptying the log the capture counts in
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        statements = len(queries)  # now: later requests empty the log it slices
        rows.append(
            (
                f"agent ticket page, {per} entries",
                median_ms(lambda u=url: client.get(u), args.repeat),
                str(statements),
            )
        )
    print(f"{connection.vendor}, medians of {args.repeat} runs\n")
    print("| measure | median | SQL statements |")
    print("|---|---:|---:|")
    for label, ms, count in rows:
        print(f"| {label} | {ms:,.1f} ms | {count} |")


if __name__ == "__main__":
    main()
