"""The outbox consumer: history entries in, one OutboundMail row per (entry, person) out.

Runs inside the outbox's transaction (casedesk.tickets.outbox), so the rows exist exactly
when the entry was handed over; a key per (entry, person) makes a second run a no-op.
The worker's send step (send.py) then delivers them. Each person's `Reply-To` is their
own reply address for the ticket (reply_address.py), so their answer proves its sender.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connections
from django.db.models import Model

from casedesk.common import clock
from casedesk.common.rows import insert_rows
from casedesk.tickets.selectors import workflow_of

from ..models import DeskMail, InboundMail, MailPreferences, OutboundMail
from ..reply_address import reply_address_for
from . import compose
from .recipients import PREFERENCE, Target, comments_of, targets_for_events
from .threading_headers import thread_headers

log = logging.getLogger("casedesk.mail")

KINDS = {
    "created",
    "comment",
    "note",
    "transition",
    "timer_warning",
    "assigned",
    "customer_assigned",
    "participant_added",
    # approvals waiting for the customer's approvers (casedesk.sheets)
    "estimate_set",
    "sheet_submitted",
    "quote_sent",
}
# confirmations of tickets opened by mail, per address and day: a machine that answers
# every mail it gets cannot make us write to it without end
CONFIRMATIONS_PER_DAY = 10


def wants(user, kind: str) -> bool:
    prefs = MailPreferences.objects.filter(user=user).first()
    return prefs is None or getattr(prefs, PREFERENCE[kind])


def _preferences_of(user_ids: set[int]) -> dict[int, MailPreferences]:
    return {p.user_id: p for p in MailPreferences.objects.filter(user_id__in=user_ids)}


def _inbound_of(event) -> InboundMail | None:
    """The received mail that made this entry, if it came by mail."""
    if event.channel != "mail":
        return None
    if event.kind == "created":
        rows = InboundMail.objects.filter(ticket_id=event.ticket_id, outcome="created")
    elif (event.data or {}).get("comment"):
        rows = InboundMail.objects.filter(comment_id=event.data["comment"])
    else:
        return None
    return rows.first()


def _skip_reason(target: Target, event, inbound: InboundMail | None) -> str:
    if inbound is None or target.user.pk != inbound.sender_id:
        return ""
    if inbound.no_reply:
        return "the mail that caused it must not be answered automatically"
    since = clock.now() - timedelta(days=1)
    recent = OutboundMail.objects.filter(
        inbound__isnull=False,
        kind__startswith="created",
        created_at__gte=since,
        address=target.user.email.lower(),
    )
    if recent.count() >= CONFIRMATIONS_PER_DAY:
        log.warning("mail: confirmations to %s paused (limit per day)", target.user.email)
        return "too many automatic replies to this address today"
    return ""


class _Batch:
    """What the entries of one outbox batch share, read once: the desks' mail settings,
    the keys of mails that exist already; and the rows to write, inserted together."""

    def __init__(self, events) -> None:
        desks = {e.ticket.desk_id for e in events}
        self.configs = {c.desk_id: c for c in DeskMail.objects.filter(desk_id__in=desks)}
        self.senders: dict[int, tuple[str, str]] = {}
        self.rows: list[OutboundMail] = []
        self.keys: set[str] = set()
        self.texts: dict = {}  # what every mail in a language says (compose.notification)

    def sender(self, desk) -> tuple[str, str]:
        if desk.pk not in self.senders:
            self.senders[desk.pk] = compose.sender_from(desk, self.configs.get(desk.pk))
        return self.senders[desk.pk]

    def read_keys(self, keys: list[str]) -> None:
        self.keys |= set(OutboundMail.objects.filter(key__in=keys).values_list("key", flat=True))

    def add(self, row: OutboundMail) -> None:
        row.address = (row.to[0] if row.to else "").lower()  # what OutboundMail.save() does
        self.keys.add(row.key)
        self.rows.append(row)

    def write(self) -> None:
        """The rows so far in one statement (before anything counts them, and at the end):
        `bulk_create`'s statements from a kept INSERT (common.rows), as nothing reads the
        new rows' keys back."""
        if not self.rows:
            return
        connection = connections[OutboundMail.objects.db]
        fields = OutboundMail._meta.concrete_fields
        size = max(connection.ops.bulk_batch_size(fields, self.rows), 1)
        for start in range(0, len(self.rows), size):
            chunk: list[Model] = [*self.rows[start : start + size]]
            insert_rows(chunk)
        self.rows = []


def _tell_team(event, batch: _Batch) -> None:
    """A new ticket, to the desk's team mailbox if it has one (in the desk's main language)."""
    ticket = event.ticket
    config = batch.configs.get(ticket.desk_id)
    if config is None or not config.team_address:
        return
    key = f"event:{event.pk}:team"
    if key in batch.keys:
        return
    lang = workflow_of(ticket).languages[0]
    lang = lang if lang in compose.LANGUAGES else "en"
    content = compose.notification(
        kind="created_staff", event=event, user=None, comment=None, lang=lang, shared=batch.texts
    )
    sender, reply_to = batch.sender(ticket.desk)
    batch.add(
        OutboundMail(
            desk_id=ticket.desk_id,
            ticket=ticket,
            event=event,
            kind="created_team",
            key=key,
            to=[config.team_address.lower()],
            language=lang,
            from_address=sender,
            reply_to=reply_to,
            subject=content.subject,
            body_text=content.text,
            body_html=content.html,
            automatic=True,
            created_at=clock.now(),
            **thread_headers(ticket),
        )
    )


def notify_events(events) -> None:
    """One batch of entries: recipients, their preferences and visibility, the comments
    and the desks' settings are read for all entries at once, the mails written together."""
    events = list(events)
    if not events:
        return
    batch = _Batch(events)
    every = targets_for_events(events)
    prefs = _preferences_of({t.user.pk for ts in every.values() for t in ts})
    batch.read_keys(
        [f"event:{e.pk}:team" for e in events if e.kind == "created"]
        + [f"event:{e.pk}:{t.user.pk}" for e in events for t in every[e.pk]]
    )
    comments = comments_of(events)
    for event in events:
        if event.kind == "created":
            _tell_team(event, batch)
        targets = [
            t
            for t in every[event.pk]
            if (p := prefs.get(t.user.pk)) is None or getattr(p, PREFERENCE[t.kind])
        ]
        if not targets:
            continue
        ticket = event.ticket
        comment = comments.get(event.pk)
        inbound = _inbound_of(event)
        if inbound is not None:
            batch.write()  # the limit on confirmations counts the rows written so far
        sender, reply_to = batch.sender(ticket.desk)
        for target in targets:
            key = f"event:{event.pk}:{target.user.pk}"
            if key in batch.keys:
                continue
            lang = compose.language_of(target.user)
            content = compose.notification(
                kind=target.kind,
                event=event,
                user=target.user,
                comment=comment,
                lang=lang,
                ticket=target.ticket,
                shared=batch.texts,
            )
            headers = thread_headers(ticket, inbound)
            reason = _skip_reason(target, event, inbound) if target.kind == "created" else ""
            batch.add(
                OutboundMail(
                    desk_id=ticket.desk_id,
                    ticket=ticket,
                    event=event,
                    inbound=inbound if inbound and target.user.pk == inbound.sender_id else None,
                    kind=target.kind,
                    key=key,
                    recipient=target.user,
                    to=[target.user.email],
                    language=lang,
                    from_address=sender,
                    # a reply there proves it comes from this person, about this ticket
                    reply_to=reply_address_for(
                        address=reply_to,
                        ticket_id=ticket.pk,
                        user_id=target.user.pk,
                        now=clock.now(),
                    )
                    if reply_to
                    else "",
                    subject=content.subject,
                    body_text=content.text,
                    body_html=content.html,
                    automatic=True,
                    created_at=clock.now(),
                    status=OutboundMail.Status.SKIPPED if reason else OutboundMail.Status.PENDING,
                    last_error=reason,
                    **headers,
                )
            )
    batch.write()
