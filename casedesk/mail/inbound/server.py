"""The LMTP (or SMTP) receiver: an MTA hands mail over a socket, and hears `250` for a
recipient only once that mail is committed. A database that is down, or anything else
that goes wrong, answers `451` so the MTA keeps the mail and tries again; an unknown
recipient is `550`; a mail over the size limit is `552` before it is even read.

The envelope goes along for the sender check (proof.py): MAIL FROM, the recipients, and
the client that handed the mail to the MTA, which Postfix tells over LMTP with XFORWARD
(`lmtp_send_xforward_command = yes`). Only the LMTP receiver takes XFORWARD, as it takes
Authentication-Results: it must be reachable by the MTA alone. Over SMTP the client is
the connecting peer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from .dnscheck import Envelope
from .receive import desk_for_address, mail_receive

log = logging.getLogger("casedesk.mail")
TEMPORARY = "451 4.3.0 Cannot store the mail now; try again later"


def _in_thread(fn, *args, **kwargs):
    close_old_connections()  # a pool thread keeps its connection (CONN_MAX_AGE) if sound
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


class Handler:
    def __init__(self, *, lmtp: bool, workers: int = 4):
        self.lmtp = lmtp
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-in")

    def close(self) -> None:
        """Close every pool thread's database connection, then the pool."""
        barrier = threading.Barrier(self.workers, timeout=10)

        def close_here():
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()  # one task per thread: each waits for the others
            connection.close()

        for future in [self.pool.submit(close_here) for _ in range(self.workers)]:
            future.result(timeout=30)
        self.pool.shutdown()

    async def _run(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: _in_thread(fn, *args, **kwargs))

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.lmtp:
            responses.insert(-1, "250-XFORWARD NAME ADDR PROTO HELO SOURCE")
        return responses

    def envelope_of(self, session, envelope) -> Envelope:
        forwarded = getattr(session, "xforward", {})
        peer = session.peer[0] if isinstance(session.peer, tuple) else ""
        return Envelope(
            mail_from=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            client_ip=forwarded.get("addr", "") if self.lmtp else peer,
            helo=forwarded.get("helo", "") if self.lmtp else (session.host_name or ""),
        )

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            desk = await self._run(desk_for_address, address)
        except DatabaseError:
            log.error("mail: the database is unavailable; asking the MTA to retry")
            return TEMPORARY
        if desk is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        if not hasattr(envelope, "desks"):
            envelope.desks = []
        envelope.desks.append(desk)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        facts = self.envelope_of(session, envelope)
        session.xforward = {}  # the MTA sends it again before each mail
        done: dict[int, str] = {}
        for desk in getattr(envelope, "desks", []):
            if desk.pk in done:
                continue
            try:
                result = await self._run(
                    mail_receive, raw, desk=desk, transport="lmtp", envelope=facts
                )
                done[desk.pk] = f"250 2.0.0 Stored ({result.outcome})"
            except DatabaseError:
                log.error("mail: the database is unavailable; asking the MTA to retry")
                done[desk.pk] = TEMPORARY
            except Exception:  # nothing was committed; the MTA keeps it and tries again
                log.exception("mail: could not store a mail")
                done[desk.pk] = TEMPORARY
        replies = [done[d.pk] for d in getattr(envelope, "desks", [])]
        if self.lmtp:
            return "\r\n".join(replies) or "503 5.5.1 No valid recipients"
        failed = [r for r in replies if not r.startswith("250")]
        return failed[0] if failed else (replies[0] if replies else "503 5.5.1 No recipients")


# Lines longer than SMTP allows do arrive (an MTA passes on what it accepted); take them.
LINE_LIMIT = 1024**2


class _LMTP(LMTP):
    line_length_limit = LINE_LIMIT

    async def smtp_XFORWARD(self, arg: str) -> None:
        """Postfix's XFORWARD: who the MTA got the coming mail from (NAME=, ADDR=, HELO=)."""
        if not arg or self.envelope is None or self.session is None:
            await self.push("501 5.5.4 Syntax: XFORWARD attribute=value ... before MAIL")
            return
        if self.envelope.mail_from is not None:
            await self.push("501 5.5.4 Syntax: XFORWARD attribute=value ... before MAIL")
            return
        forwarded = dict(getattr(self.session, "xforward", {}))
        for item in arg.split():
            key, _, value = item.partition("=")
            value = xtext_decode(value)
            if value.upper() not in ("[UNAVAILABLE]", "[TEMPUNAVAIL]"):
                forwarded[key.lower()] = value[:255]
        if forwarded.get("addr", "").lower().startswith("ipv6:"):
            forwarded["addr"] = forwarded["addr"][5:]
        self.session.xforward = forwarded  # type: ignore[attr-defined]
        await self.push("250 2.0.0 Ok")


def xtext_decode(value: str) -> str:
    """RFC 1891 xtext: `+XX` is the byte XX."""
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


class _SMTP(SMTP):
    line_length_limit = LINE_LIMIT


class _Closing(Controller):
    def stop(self, *args, **kwargs):
        super().stop(*args, **kwargs)
        self.handler.close()


class LMTPController(_Closing):
    def factory(self):
        return _LMTP(self.handler, **self.SMTP_kwargs)


class SMTPController(_Closing):
    def factory(self):
        return _SMTP(self.handler, **self.SMTP_kwargs)


def controller(*, host: str, port: int, lmtp: bool = True) -> Controller:
    kind = LMTPController if lmtp else SMTPController
    return kind(
        Handler(lmtp=lmtp),
        hostname=host,
        port=port,
        data_size_limit=settings.CASEDESK_MAIL_MAX_BYTES,
        ident="Casedesk",
    )
