"""Benchmark: notifications composed, then handed to a real local SMTP server.

Builds N tickets of one customer on the default workflow through the services, then per
run adds a public staff comment to each (every comment is a history entry whose outbox
item the mail consumer turns into a notification for the customer) and measures:

  compose      `outbox.deliver_all()`: the mail consumer reads the entries, works out
               recipients and preferences, renders subject, text and HTML in the
               customer's language and stores one OutboundMail row per mail
  send         `mail_send_due()` until nothing is due: each row claimed, built into a
               MIME message and handed over SMTP to an aiosmtpd server on 127.0.0.1 (the
               server the mail tests use), which accepts every mail
  both         the two together, mails per second from the comments to the server

Run against a scratch database (it is filled with generated rows):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_mailout \\
    .venv/bin/python bench/mail_out.py --mails 200 --runs 5
  CASEDESK_DATA_DIR=/tmp/casedesk-mailout .venv/bin/python bench/mail_out.py

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
os.environ["CASEDESK_SMTP_URL"] = f"smtp://127.0.0.1:{PORT}"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk, StaffMembership
from casedesk.desks.services import desk_create, preset_store
from casedesk.mail.models import DeskMail, OutboundMail
from casedesk.mail.outbound.send import mail_send_due
from casedesk.tickets import outbox
from casedesk.tickets.services import comment_add, ticket_create


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 Message accepted"


def setup(size: int):
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="MOUT").first()
    if desk is None:
        desk = desk_create(name="Mail out", key_prefix="MOUT", workflow=preset_store("default"))
        DeskMail.objects.create(desk=desk, address="support@mail-out.example")
    org, _ = Organisation.objects.get_or_create(slug="mout", defaults={"name": "Mail out"})
    desk.organisations.add(org)
    customer = User.objects.filter(username="mout-customer").first() or User.objects.create_user(
        "mout-customer", "customer@mail-out.example", kind="customer", organisation=org,
        customer_role="member",
    )  # fmt: skip
    agent = User.objects.filter(username="mout-agent").first() or User.objects.create_user(
        "mout-agent", "agent@supplier.example", kind="staff"
    )
    StaffMembership.objects.get_or_create(desk=desk, user=agent, defaults={"role": "agent"})
    have = list(desk.tickets.order_by("id")[:size])
    while len(have) < size:
        have.append(ticket_create(actor=customer, desk=desk, title=f"Printer {len(have)}"))
    drain()
    return agent, have


def drain() -> None:
    """Everything composed and sent, so a run starts from nothing due."""
    outbox.deliver_all()
    while mail_send_due(batch=200):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sink = Sink()
    server = Controller(sink, hostname="127.0.0.1", port=PORT)
    server.start()
    try:
        agent, tickets = setup(args.mails)
        compose, send, both = [], [], []
        for run in range(args.runs):
            for ticket in tickets:
                comment_add(
                    actor=agent, ticket=ticket, body=f"Run {run}: a new roller is on its way."
                )
            before_rows, before_sent = OutboundMail.objects.count(), sink.count
            started = time.perf_counter()
            outbox.deliver_all()
            composed_at = time.perf_counter()
            while mail_send_due(batch=200):
                pass
            done_at = time.perf_counter()
            rows, sent = OutboundMail.objects.count() - before_rows, sink.count - before_sent
            assert rows >= len(tickets) and sent >= len(tickets), (rows, sent)
            compose.append(rows / (composed_at - started))
            send.append(sent / (done_at - composed_at))
            both.append(sent / (done_at - started))
    finally:
        server.stop()
    print(f"{connection.vendor}, {len(tickets)} comments per run, median of {args.runs} runs\n")
    print("| step | mails per second | ms per mail |")
    print("|---|---:|---:|")
    for label, rates in (("compose", compose), ("send over SMTP", send), ("both", both)):
        rate = statistics.median(rates)
        print(f"| {label} | {rate:,.0f} | {1000 / rate:.2f} |")


if __name__ == "__main__":
    main()
