"""Sending: the worker's mail step. Outbound mail rows are durable jobs
(casedesk.jobs.queue): due rows are claimed for a while (a lease), sent outside any
transaction, and the result recorded: sent, or another try later on the jobs' schedule,
or after the last try `failed` and held, which staff see. A mail the server refused for
good (5xx) fails at once.

Each mail's outcome is recorded as soon as the server has answered, before the next mail
goes on that connection, and only while this worker's claim on the row still holds; no
mail is handed over after half the lease, the rest of the batch is released. So a
worker that dies mid-way leaves at most the mail it was handing over on each of its
connections to be sent again when the lease runs out, under the same Message-ID, so
receivers can tell; and while handing one mail over takes less than half the lease
(the SMTP timeout is 30 s, the lease 10 minutes by default), no worker sends a row whose
claim it no longer holds.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from queue import Empty, SimpleQueue
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connections, transaction
from django.db.models import F, Q

from casedesk.common import clock
from casedesk.jobs.queue import (
    Queue,
    job_discard,
    job_failed,
    job_lease,
    job_retry,
    jobs_claim,
    queue_register,
)
from casedesk.tickets import outbox
from casedesk.tickets.permissions import authorise

from ..access import notification_for_staff, outbound_for_staff
from ..models import DeskMail, OutboundMail
from ..threading import domain
from .compose import preferences_url
from .wire import bare_address, wire_of

log = logging.getLogger("casedesk.mail")

QUEUE = queue_register(
    Queue(
        name="mail",
        model=OutboundMail,
        ready=Q(status=OutboundMail.Status.PENDING),
        null_is_due=True,  # rows are written in many places; new ones are due at once
        held={"status": OutboundMail.Status.FAILED},
        retried={"status": OutboundMail.Status.PENDING},
        discarded={"status": OutboundMail.Status.SKIPPED, "last_error": "discarded by staff"},
        max_attempts=lambda: settings.CASEDESK_MAIL_MAX_ATTEMPTS,
    )
)


# connections a batch is handed over on side by side
CONNECTIONS = 4


def loop_marker() -> str:
    """Our X-Loop value; a mail that comes back with it is our own."""
    return f"casedesk@{domain()}"


def connection():
    if not settings.CASEDESK_SMTP_URL:  # no server configured: Django's backend (the log)
        return get_connection(fail_silently=False)
    url = urlparse(settings.CASEDESK_SMTP_URL)
    secure = url.scheme == "smtps"
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=url.hostname or "127.0.0.1",
        port=url.port or (465 if secure else 25),
        username=unquote(url.username or "") or None,
        password=unquote(url.password or "") or None,
        use_ssl=secure,
        use_tls=url.scheme == "smtp+starttls",
        timeout=30,
        fail_silently=False,
    )


def message_of(row: OutboundMail) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": row.message_id,
        "X-Loop": loop_marker(),
    }
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.automatic:
        headers["Auto-Submitted"] = "auto-replied" if row.kind == "refusal" else "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
        if row.recipient_id:  # a notification: the person chooses which ones they get
            headers["List-Unsubscribe"] = f"<{preferences_url()}>"
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=row.from_address,
        to=list(row.to),
        cc=list(row.cc or []),
        reply_to=[row.reply_to] if row.reply_to else None,
        headers=headers,
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    for attachment in row.attachments.all():
        with attachment.file.open("rb") as handle:
            message.attach(attachment.name, handle.read(), attachment.content_type)
    return message


def _hand_over(smtp, row: OutboundMail) -> None:
    """One mail over an open connection. To an SMTP server as bytes written by
    `wire.py` (a fraction of the email package's cost, the same bytes); through Django's
    backend when there is no server, or for a mail of another shape (attachments)."""
    message = message_of(row)
    wire = wire_of(message) if settings.CASEDESK_SMTP_URL else None
    if wire is None:
        smtp.send_messages([message])
    elif wire.recipients:  # (Django's backend, too, sends nothing to nobody)
        smtp.open()  # again, when a failed send closed it
        smtp.connection.sendmail(wire.sender, wire.recipients, wire.data)


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _own_addresses(rows: list[OutboundMail]) -> set[str]:
    wanted = {bare_address(a).lower() for row in rows for a in [*row.to, *(row.cc or [])]}
    return set(DeskMail.objects.filter(address__in=wanted).values_list("address", flat=True))


def _ours(row: OutboundMail) -> Q:
    """The row while this worker's claim on it holds: each claim counts an attempt and
    pushes the due time to its own lease's end, so both together name one claim. Once the
    lease has run out and another worker claimed the row, this matches nothing."""
    return Q(
        pk=row.pk,
        status=OutboundMail.Status.PENDING,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


def _record(row: OutboundMail, now: datetime, exc: Exception) -> bool:
    """A mail that did not go: another try later, or held. False when the claim on it
    has run out (another worker has it now, and its own try to record)."""
    with transaction.atomic():
        if not OutboundMail.objects.select_for_update().filter(_ours(row)).exists():
            return False
        error = f"{type(exc).__name__}: {exc}"
        job_failed(QUEUE, row, error=error, now=now, permanent=_permanent(exc))
    return True


def _record_sent(rows: list[OutboundMail], now: datetime) -> bool:
    """Right after the server took the mails, before their connections hand over the
    next, so that a worker that dies leaves at most the mail it was handing over on each
    connection to be sent again. False when the claim on one of them had run out: that
    row is another worker's now."""
    return _mark_sent(rows, now) == len(rows)


def _mark_sent(rows: list[OutboundMail], now: datetime) -> int:
    """`OutboundMail.objects.filter(<_ours(row) for each row>).update(status=SENT, ...)`,
    written directly: building that statement through the ORM for every round of the
    lanes cost more than sending a mail. Rows of one claim share their lease end, and
    mostly their attempts, so the claims are matched per (attempts, lease end)."""
    connection = connections[OutboundMail.objects.db]
    quote = connection.ops.quote_name
    meta = OutboundMail._meta
    column = {f.name: quote(str(f.column)) for f in meta.concrete_fields if f.name in _MARKED}
    stamp = meta.get_field("next_attempt_at")
    claims: dict[tuple[int, datetime | None], list[int]] = {}
    for row in rows:
        claims.setdefault((row.attempts, row.next_attempt_at), []).append(row.pk)
    terms, params = [], []
    for (attempts, lease_end), pks in claims.items():
        if lease_end is None:
            due, due_params = f"{column['next_attempt_at']} IS NULL", []
        else:
            due, due_params = (
                f"{column['next_attempt_at']} = %s",
                [stamp.get_db_prep_value(lease_end, connection)],
            )
        keys = ", ".join(["%s"] * len(pks))
        terms.append(f"({column['attempts']} = %s AND {due} AND {column['id']} IN ({keys}))")
        params += [attempts, *due_params, *pks]
    # (names from the model's own metadata, quoted; the values are parameters)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, "  # noqa: S608
        f"{column['sent_at']} = %s, {column['last_error']} = %s, "
        f"{column['next_attempt_at']} = NULL "
        f"WHERE {column['status']} = %s AND ({' OR '.join(terms)})"
    )
    sent_at = meta.get_field("sent_at").get_db_prep_value(now, connection)
    head = [OutboundMail.Status.SENT.value, sent_at, "", OutboundMail.Status.PENDING.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, head + params)
        return int(cursor.rowcount)


_MARKED = ("id", "status", "sent_at", "last_error", "next_attempt_at", "attempts")


def _release(rows: list[OutboundMail], now: datetime) -> None:
    """Claimed rows that were not handed over (the batch stopped): due again at once, and
    the claim does not count as a try."""
    for row in rows:
        OutboundMail.objects.filter(_ours(row)).update(
            next_attempt_at=now, attempts=F("attempts") - 1
        )


def mail_send_due(*, now: datetime | None = None, batch: int = 50) -> int:
    """Send what is due now; returns how many rows were handled (sent or not)."""
    now = now or clock.now()
    lease = job_lease()
    # no mail is handed over once half the lease has gone: the rest is released, so a
    # claim never runs out while its worker is still sending
    deadline = time.monotonic() + lease.total_seconds() / 2
    ids = jobs_claim(QUEUE, now=now, batch=batch, lease=lease)
    if not ids:
        return 0
    rows = list(
        OutboundMail.objects.filter(pk__in=ids).order_by("id").prefetch_related("attachments")
    )
    own = _own_addresses(rows)
    try:
        smtp = connection()
        smtp.open()
    except Exception as exc:  # the server is down: every claimed mail tries again later
        for row in rows:
            _record(row, now, exc)
        return len(rows)
    outgoing: list[OutboundMail] = []
    for row in rows:
        if own and own & {bare_address(a).lower() for a in [*row.to, *(row.cc or [])]}:
            OutboundMail.objects.filter(_ours(row)).update(
                status=OutboundMail.Status.SKIPPED,
                last_error="an address of a desk",
                next_attempt_at=None,
            )
        else:
            outgoing.append(row)
    # A few connections side by side: most of a mail's time is waiting for the server's
    # answers (MAIL, RCPT, DATA), which one connection can only do one after the other.
    # (Django's own backends, without a server, get them one after the other, in order.)
    # A ticket's mails keep one lane, so they arrive in the order they were written.
    n = CONNECTIONS if settings.CASEDESK_SMTP_URL else 1
    by_lane: list[list[OutboundMail]] = [[] for _ in range(n)]
    for row in outgoing:
        by_lane[(row.ticket_id or 0) % n].append(row)
    lanes = [lane for lane in by_lane if lane]
    handed: set[int] = set()

    def record(outcomes: list[tuple[OutboundMail, Exception | None]]) -> bool:
        """Whether the batch goes on (not when the claim on a row has run out)."""
        handed.update(row.pk for row, _ in outcomes)
        sent = [row for row, exc in outcomes if exc is None]
        ours = _record_sent(sent, now) if sent else True
        for row, exc in outcomes:
            if exc is not None:
                ours = _record(row, now, exc) and ours
        if not ours:
            rows_now = [row.pk for row, _ in outcomes]
            log.warning("mail %s: a claim ran out while this worker held it", rows_now)
        return ours

    if len(lanes) <= 1:
        _send_lane(lanes[0] if lanes else [], smtp, lambda r, e: record([(r, e)]), deadline)
    else:
        _send_lanes(lanes, smtp, record, deadline)
    _release([row for row in outgoing if row.pk not in handed], now)
    return len(rows)


Handed = Callable[[OutboundMail, "Exception | None"], bool]
Outcomes = Callable[[list[tuple[OutboundMail, "Exception | None"]]], bool]


def _send_lanes(lanes: list[list[OutboundMail]], smtp, record: Outcomes, deadline: float) -> None:
    """Each lane on a connection of its own, in a thread of its own. The outcomes are
    recorded here, in this thread (it has the database connection), all that have come
    in together, and a lane waits for its mail's before it hands over the next."""
    outcomes: SimpleQueue = SimpleQueue()
    stop = threading.Event()

    def relay(row: OutboundMail, exc: Exception | None) -> bool:
        recorded = threading.Event()
        outcomes.put((row, exc, recorded))
        recorded.wait()
        return not stop.is_set()

    def lane(rows: list[OutboundMail], smtp) -> None:
        try:
            _send_lane(rows, smtp, relay, deadline)
        finally:
            outcomes.put(None)  # this lane is done

    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        done = [pool.submit(lane, lanes[0], smtp)]
        done += [pool.submit(lane, rows, None) for rows in lanes[1:]]
        running = len(lanes)
        while running:
            items = [outcomes.get()]
            with contextlib.suppress(Empty):
                while True:
                    items.append(outcomes.get_nowait())
            came = [item for item in items if item is not None]
            running -= len(items) - len(came)
            try:
                if came and not stop.is_set() and not record([(r, e) for r, e, _ in came]):
                    stop.set()
            except BaseException as error:  # the database went away: stop every lane
                stop.set()
                failure = failure or error
            finally:
                for _, _, recorded in came:
                    recorded.set()
    if failure is not None:
        raise failure
    for future in done:
        future.result()


def _send_lane(rows: list[OutboundMail], smtp, handed: Handed, deadline: float) -> None:
    """Hand `rows` over one connection (`smtp`, open, or a new one), one after the other;
    `handed(row, error or None)` after each says whether to go on. No database work here,
    as this may run in a thread of its own."""
    if not rows:
        if smtp is not None:
            smtp.close()
        return
    try:
        if smtp is None:
            smtp = connection()
            smtp.open()
    except Exception as exc:  # this connection's mails try again later
        for row in rows:
            if not handed(row, exc):
                return
        return
    try:
        for row in rows:
            if time.monotonic() > deadline:
                return  # the rest is released
            outcome: Exception | None = None
            try:
                _hand_over(smtp, row)
            except Exception as exc:  # recorded on the row; the next mail gets its own try
                outcome = exc
                smtp.close()  # the next send opens a fresh connection
            if not handed(row, outcome):
                return
    finally:
        smtp.close()


def mail_retry(*, actor, mail: OutboundMail) -> OutboundMail:
    """Staff send a failed mail again (from the start of the retry ladder)."""
    row = outbound_for_staff(user=actor, mail_id=mail.pk)
    authorise(actor, "mail.review", row.desk)
    if row.status == OutboundMail.Status.FAILED:
        job_retry(queue=QUEUE, ids=[row.pk])
        row.refresh_from_db()
    return row


def notification_retry(*, actor, item_id: int) -> None:
    """Staff try a held notification entry again (after fixing what broke it)."""
    item = notification_for_staff(user=actor, item_id=item_id)
    authorise(actor, "mail.review", item.event.ticket.desk)
    job_retry(queue=outbox.QUEUE, ids=[item.pk])


def notification_discard(*, actor, item_id: int) -> None:
    """Staff give up a held notification entry: that change sends no mail."""
    item = notification_for_staff(user=actor, item_id=item_id)
    authorise(actor, "mail.review", item.event.ticket.desk)
    job_discard(queue=outbox.QUEUE, ids=[item.pk])
