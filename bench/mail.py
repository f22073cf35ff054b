"""Benchmark: how many mails per second Casedesk takes in.

Measures `mail_receive` (parse, dedupe, identify, thread, store raw, create the ticket or
comment, history, outbox) for several kinds of mail, and the same through the LMTP
receiver over a socket (one LMTP session per batch, as an MTA would send them):

  new ticket         a plain-text mail from a known customer
  reply              a reply with quoted history, threaded by Message-ID onto a ticket
  HTML + image       an HTML-only mail with an inline PNG (text conversion, a file)
  auto-reply         an out-of-office (recorded, linked, nothing else)
  duplicate          a second delivery of a stored mail (the unique-constraint path)
  LMTP, new ticket   new-ticket mails through the receiver over a socket

Run against a scratch database (it is filled with generated rows):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_bench \\
    .venv/bin/python bench/mail.py --mails 200 --runs 5
  CASEDESK_DATA_DIR=/tmp/casedesk-bench .venv/bin/python bench/mail.py

Prints a Markdown table of medians; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import base64
import os
import smtplib
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk
from casedesk.desks.services import desk_create, preset_store
from casedesk.mail.inbound.receive import mail_receive
from casedesk.mail.inbound.server import controller
from casedesk.mail.models import DeskMail
from casedesk.tickets.services import ticket_create

ADDRESS = "bench@mail-bench.example"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(2000)).decode()


def setup():
    call_command("migrate", verbosity=0)
    desk = Desk.objects.filter(key_prefix="MBENCH").first()
    if desk is None:
        desk = desk_create(name="Mail bench", key_prefix="MBENCH", workflow=preset_store("default"))
        DeskMail.objects.create(desk=desk, address=ADDRESS, sender_limit_per_hour=10**9)
    org, _ = Organisation.objects.get_or_create(slug="mbench", defaults={"name": "Mail bench"})
    desk.organisations.add(org)
    user = User.objects.filter(username="mbench").first() or User.objects.create_user(
        "mbench", "customer@mail-bench.example", kind="customer", organisation=org,
        customer_role="member",
    )  # fmt: skip
    ticket = ticket_create(actor=user, desk=desk, title="Bench thread")
    return desk, ticket


def head(subject: str, extra: str = "") -> str:
    return (
        "From: Customer <customer@mail-bench.example>\r\n"
        f"To: {ADDRESS}\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail-bench.example>\r\nSubject: {subject}\r\n"
        f"MIME-Version: 1.0\r\n{extra}"
    )


def new_ticket(_ticket) -> bytes:
    body = "The printer stops after ten labels.\r\n" * 20
    return (head("Printer", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + body).encode()


def reply(ticket) -> bytes:
    body = "It works now, thanks.\r\n\r\nOn Mon, 2 Nov 2026, Support wrote:\r\n" + "> old\r\n" * 40
    return (
        head(f"Re: [{ticket.key}] Bench thread", "Content-Type: text/plain\r\n") + "\r\n" + body
    ).encode()


def html_image(_ticket) -> bytes:
    extra = 'Content-Type: multipart/related; boundary="b"\r\n'
    body = (
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <b>this</b>:</p>"
        '<img src="cid:i1@x"><p>Thanks</p>\r\n--b\r\nContent-Type: image/png\r\n'
        "Content-ID: <i1@x>\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: inline; filename="shot.png"\r\n\r\n{PNG}\r\n--b--\r\n'
    )
    return (head("Screenshot", extra) + "\r\n" + body).encode()


def auto_reply(_ticket) -> bytes:
    extra = "Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n"
    return (head("Out of office", extra) + "\r\nAway until Monday.\r\n").encode()


def timed(fn, count: int) -> float:
    started = time.perf_counter()
    fn()
    return count / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    desk, ticket = setup()
    n = args.mails
    rows = []
    for label, make in (
        ("new ticket", new_ticket),
        ("reply", reply),
        ("HTML + image", html_image),
        ("auto-reply", auto_reply),
    ):
        rates = []
        for _ in range(args.runs):
            mails = [make(ticket) for _ in range(n)]
            rates.append(
                timed(lambda m=mails: [mail_receive(r, desk=desk, transport="bench") for r in m], n)
            )
        rows.append((label, statistics.median(rates)))
    stored = [new_ticket(ticket) for _ in range(n)]
    for raw in stored:
        mail_receive(raw, desk=desk, transport="bench")
    rates = [
        timed(lambda: [mail_receive(r, desk=desk, transport="bench") for r in stored], n)
        for _ in range(args.runs)
    ]
    rows.append(("duplicate", statistics.median(rates)))

    port = free_port()
    receiver = controller(host="127.0.0.1", port=port, lmtp=True)
    receiver.start()
    try:
        rates = []
        for _ in range(args.runs):
            mails = [new_ticket(ticket) for _ in range(n)]

            def send(mails=mails):
                client = smtplib.LMTP("127.0.0.1", port)
                for raw in mails:
                    client.sendmail("customer@mail-bench.example", [ADDRESS], raw)
                client.quit()

            rates.append(timed(send, n))
        rows.append(("LMTP, new ticket", statistics.median(rates)))
    finally:
        receiver.stop()

    print(f"{connection.vendor}, {n} mails per run, median of {args.runs} runs\n")
    print("| mail | mails per second | ms per mail |")
    print("|---|---:|---:|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {1000 / rate:.1f} |")


if __name__ == "__main__":
    main()
