"""Sending: the worker's mail step. Outbound mail rows are durable jobs
(casedesk.jobs.queue): due rows are claimed for a while (a lease), sent outside any
transaction, and the result recorded: sent, or another try later on the jobs' schedule,
or after the last try `failed` and held, which staff see. A mail the server refused for
good (5xx) fails at once. A worker that dies mid-way leaves the lease to run out, and the
mail is sent again under the same Message-ID, so receivers can tell.
"""

from __future__ import annotations

import logging
import smtplib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q

from casedesk.common import clock
from casedesk.jobs.queue import (
    Queue,
    job_discard,
    job_failed,
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


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _own_addresses(rows: list[OutboundMail]) -> set[str]:
    wanted = {parseaddr(a)[1].lower() for row in rows for a in [*row.to, *(row.cc or [])]}
    return set(DeskMail.objects.filter(address__in=wanted).values_list("address", flat=True))


def _record(row: OutboundMail, now: datetime, exc: Exception) -> None:
    """A mail that did not go: another try later, or held (mails that went are recorded
    together at the end of their batch)."""
    error = f"{type(exc).__name__}: {exc}"
    job_failed(QUEUE, row, error=error, now=now, permanent=_permanent(exc))


def mail_send_due(*, now: datetime | None = None, batch: int = 50) -> int:
    """Send what is due now; returns how many rows were handled (sent or not)."""
    now = now or clock.now()
    ids = jobs_claim(QUEUE, now=now, batch=batch)
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
        if own & {parseaddr(a)[1].lower() for a in [*row.to, *(row.cc or [])]}:
            row.status, row.last_error = OutboundMail.Status.SKIPPED, "an address of a desk"
            row.next_attempt_at = None
            row.save(update_fields=["status", "last_error", "next_attempt_at", "address"])
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
    results: list[tuple[OutboundMail, Exception | None]] = []
    if len(lanes) <= 1:
        results = _send_lane(lanes[0] if lanes else [], smtp)
    else:
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            done = [pool.submit(_send_lane, lanes[0], smtp)]
            done += [pool.submit(_send_lane, lane, None) for lane in lanes[1:]]
            for future in done:
                results += future.result()
    sent = []  # recorded together: one statement for the batch
    for row, error in sorted(results, key=lambda r: r[0].pk):
        if error is None:
            sent.append(row.pk)
        else:
            _record(row, now, error)
    # (a worker that dies before this leaves the lease to run out: sent again, same ID)
    OutboundMail.objects.filter(pk__in=sent).update(
        status=OutboundMail.Status.SENT, sent_at=now, last_error="", next_attempt_at=None
    )
    return len(rows)


def _send_lane(rows: list[OutboundMail], smtp) -> list[tuple[OutboundMail, Exception | None]]:
    """Hand `rows` over one connection (`smtp`, open, or a new one); no database work
    here, as this may run in a thread of its own: the outcome of each row is returned."""
    results: list[tuple[OutboundMail, Exception | None]] = []
    if not rows:
        if smtp is not None:
            smtp.close()
        return results
    try:
        if smtp is None:
            smtp = connection()
            smtp.open()
    except Exception as exc:  # this connection's mails try again later
        return [(row, exc) for row in rows]
    try:
        for row in rows:
            try:
                smtp.send_messages([message_of(row)])
            except Exception as exc:  # recorded on the row; the next mail gets its own try
                results.append((row, exc))
                smtp.close()  # the next send opens a fresh connection
            else:
                results.append((row, None))
    finally:
        smtp.close()
    return results


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
