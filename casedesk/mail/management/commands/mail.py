"""`casedesk mail ...`: take mail in (serve, poll, import, deliver) and look after it."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from casedesk.desks.models import Desk

EX_NOUSER, EX_TEMPFAIL = 67, 75


def _desk(key: str | None):
    if not key:
        return None
    desk = Desk.objects.filter(key_prefix=key.upper()).first()
    if desk is None:
        raise CommandError(f"no desk with key prefix {key}")
    return desk


class Command(BaseCommand):
    help = "Mail in: serve (LMTP/SMTP), poll (IMAP), import (Maildir/mbox), deliver (pipe)"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="an LMTP (or SMTP) receiver for your MTA")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=2424)
        serve.add_argument("--smtp", action="store_true", help="speak SMTP instead of LMTP")
        poll = sub.add_parser("poll", help="take in new mail from an IMAP mailbox")
        poll.add_argument("--url", default=os.environ.get("CASEDESK_IMAP_URL", ""))
        poll.add_argument("--password-file", help="else CASEDESK_IMAP_PASSWORD")
        poll.add_argument("--desk", required=True, help="key prefix of the default desk")
        poll.add_argument("--after", default="seen", help="seen | delete | move:FOLDER")
        poll.add_argument("--cafile", help="CA certificates to trust for IMAPS")
        poll.add_argument("--once", action="store_true")
        poll.add_argument("--interval", type=float, default=60.0)
        imp = sub.add_parser("import", help="import a Maildir or an mbox file (restartable)")
        imp.add_argument("path")
        imp.add_argument("--desk", required=True, help="key prefix of the default desk")
        deliver = sub.add_parser("deliver", help="one mail on standard input (an MTA pipe)")
        deliver.add_argument("--desk", help="key prefix; else the recipient decides")
        deliver.add_argument("--recipient", help="the envelope recipient")
        deliver.add_argument("--sender", default="", help="the envelope sender (for SPF)")
        deliver.add_argument("--client", default="", help="the MTA's client address (for SPF)")
        deliver.add_argument("--helo", default="", help="the MTA's client's HELO name")
        again = sub.add_parser("reprocess", help="run held mail through ingestion again")
        again.add_argument("ids", nargs="+", type=int)

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options) or None

    def do_serve(self, *, host, port, smtp, **_):
        from casedesk.mail.inbound.server import controller

        receiver = controller(host=host, port=port, lmtp=not smtp)
        receiver.start()
        self.stdout.write(f"receiving {'SMTP' if smtp else 'LMTP'} on {host}:{port}")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        receiver.stop()

    def do_poll(self, *, url, password_file, desk, after, cafile, once, interval, **_):
        from casedesk.mail.inbound.imap import Mailbox, imap_poll

        if not url:
            raise CommandError("give --url imaps://user@host/INBOX (or CASEDESK_IMAP_URL)")
        password = (
            Path(password_file).read_text().strip()
            if password_file
            else os.environ.get("CASEDESK_IMAP_PASSWORD", "")
        )
        box = Mailbox.from_url(url, password)
        default = _desk(desk)
        while True:
            try:
                n = imap_poll(box, desk=default, after=after, cafile=cafile)
                self.stdout.write(f"{n} mail(s) taken in")
            except DatabaseError as exc:
                # the mailbox is left as it was; the next round takes the mail
                self.stderr.write(f"database unavailable, nothing taken: {exc}")
                if once:
                    sys.exit(EX_TEMPFAIL)
            if once:
                return
            time.sleep(interval)

    def do_import(self, *, path, desk, **_):
        from casedesk.mail.inbound.files import mail_import

        counts = mail_import(path, desk=_desk(desk))
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no mail"
        self.stdout.write(f"imported: {summary}")

    def do_deliver(self, *, desk, recipient, sender, client, helo, **_):
        from casedesk.mail.inbound.dnscheck import Envelope
        from casedesk.mail.inbound.receive import desk_for_address, mail_receive

        raw = sys.stdin.buffer.read()
        try:
            target = _desk(desk) if desk else desk_for_address(recipient or "")
            if target is None:
                self.stderr.write("no desk for this recipient")
                sys.exit(EX_NOUSER)
            envelope = Envelope(
                mail_from=sender,
                recipients=(recipient,) if recipient else (),
                client_ip=client,
                helo=helo,
            )
            result = mail_receive(raw, desk=target, transport="pipe", envelope=envelope)
        except DatabaseError as exc:
            self.stderr.write(f"database unavailable; the MTA should retry: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{result.outcome} {result.ticket_key}".strip())

    def do_reprocess(self, *, ids, **_):
        from casedesk.mail.inbound.review import inbound_reprocess

        for mail in inbound_reprocess(ids):
            self.stdout.write(f"{mail.pk}: {mail.outcome} {mail.reason}".strip())
