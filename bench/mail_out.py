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

The server runs in its own process by default (`--server process`), as a local MTA
does; `--server thread` runs it in this process, where its Python work competes with
the sender's for one interpreter (the setting of the first recorded figures). Both
wall and processor time (this process only) are reported.

Run against a scratch database (it is filled with generated rows):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_mailout \\
    .venv/bin/python bench/mail_out.py --mails 200 --runs 5
  CASEDESK_DATA_DIR=/tmp/casedesk-mailout .venv/bin/python bench/mail_out.py

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import multiprocessing
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
HERE = str(Path(__file__).resolve().parent.parent)
if os.environ.get("PYTHONPATH"):
    sys.path.append(HERE)  # PYTHONPATH names the code measured (an older checkout, say)
else:
    sys.path.insert(0, HERE)
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
from casedesk.mail.outbound import send as sending
from casedesk.mail.outbound.send import mail_send_due
from casedesk.tickets import outbox
from casedesk.tickets.services import comment_add, ticket_create


class Sink:
    def __init__(self, counter=None) -> None:
        self.counter = counter if counter is not None else multiprocessing.Value("q", 0)
        self.lock = threading.Lock()

    @property
    def count(self) -> int:
        return int(self.counter.value)

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 Message accepted"


def serve(counter, ready, stop) -> None:
    """The SMTP server in a process of its own, until `stop` is set."""
    server = Controller(Sink(counter), hostname="127.0.0.1", port=PORT)
    server.start()
    ready.set()
    stop.wait()
    server.stop()


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
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    parser.add_argument("--connections", type=int, help="SMTP connections side by side")
    args = parser.parse_args()
    if args.connections:
        sending.CONNECTIONS = args.connections
    sink = Sink()
    if args.server == "thread":
        server = Controller(sink, hostname="127.0.0.1", port=PORT)
        server.start()
        stop_server = server.stop
    else:
        ready, stop = multiprocessing.Event(), multiprocessing.Event()
        child = multiprocessing.Process(target=serve, args=(sink.counter, ready, stop))
        child.start()
        ready.wait(30)

        def stop_server() -> None:
            stop.set()
            child.join(10)

    try:
        agent, tickets = setup(args.mails)
        compose, send, both = [], [], []
        cpu_compose, cpu_send, cpu_both = [], [], []
        for run in range(args.runs):
            for ticket in tickets:
                comment_add(
                    actor=agent, ticket=ticket, body=f"Run {run}: a new roller is on its way."
                )
            before_rows, before_sent = OutboundMail.objects.count(), sink.count
            started, cpu_started = time.perf_counter(), time.process_time()
            outbox.deliver_all()
            composed_at, cpu_composed = time.perf_counter(), time.process_time()
            while mail_send_due(batch=200):
                pass
            done_at, cpu_done = time.perf_counter(), time.process_time()
            rows, sent = OutboundMail.objects.count() - before_rows, sink.count - before_sent
            assert rows >= len(tickets) and sent >= len(tickets), (rows, sent)
            compose.append(rows / (composed_at - started))
            send.append(sent / (done_at - composed_at))
            both.append(sent / (done_at - started))
            cpu_compose.append(rows / max(cpu_composed - cpu_started, 1e-9))
            cpu_send.append(sent / max(cpu_done - cpu_composed, 1e-9))
            cpu_both.append(sent / max(cpu_done - cpu_started, 1e-9))
    finally:
        stop_server()
    print(
        f"{connection.vendor}, {len(tickets)} comments per run, median of {args.runs} runs, "
        f"SMTP server in a {args.server}\n"
    )
    print("| step | mails/s (wall) | ms/mail (wall) | mails/s (processor) | ms/mail (processor) |")
    print("|---|---:|---:|---:|---:|")
    steps = (
        ("compose", compose, cpu_compose),
        ("send over SMTP", send, cpu_send),
        ("both", both, cpu_both),
    )
    for label, rates, cpu in steps:
        rate, cpu_rate = statistics.median(rates), statistics.median(cpu)
        print(
            f"| {label} | {rate:,.0f} | {1000 / rate:.2f} "
            f"| {cpu_rate:,.0f} | {1000 / cpu_rate:.2f} |"
        )


if __name__ == "__main__":
    main()
