"""Reacting to ticket history from outside the change: notifications, webhooks.

A consumer (mail, webhooks...) registers the kinds of history entries it cares about. When a
service writes such an entry, an OutboxItem for that consumer is written in the same
transaction, so the reaction exists exactly when the change committed: nothing is sent for
a change that rolled back, and nothing is lost when the process dies after the commit.

Items are durable jobs (casedesk.jobs.queue): the worker claims a consumer's due items in
id order and hands them over a batch per transaction. When a batch fails, each of its items
is tried alone, so one entry the handler cannot take (a desk with a mistyped time zone, say)
holds up nobody else: it is retried on the jobs' schedule and then held where staff see it
(the admin, and for mail the staff's mail problems page), while every other entry goes
through. Handlers make their own effects idempotent (an outbound mail row per event and
recipient, say), because a claimed batch may be handed over again after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from casedesk.common import clock
from casedesk.common.rows import insert_rows
from casedesk.desks.models import WorkflowVersion
from casedesk.jobs.queue import Queue, job_failed, jobs_claim, queue_register

from .models import OutboxItem, TicketEvent

log = logging.getLogger("casedesk.outbox")

Handler = Callable[[list[TicketEvent]], None]

QUEUE = queue_register(
    Queue(
        name="outbox",
        model=OutboxItem,
        max_attempts=lambda: settings.CASEDESK_OUTBOX_MAX_ATTEMPTS,
    )
)


@dataclass(frozen=True)
class Consumer:
    name: str
    kinds: frozenset[str]
    handler: Handler


CONSUMERS: dict[str, Consumer] = {}


def register(name: str, kinds: set[str], handler: Handler) -> None:
    """Call once per process (an AppConfig.ready) to receive history entries of `kinds`."""
    CONSUMERS[name] = Consumer(name, frozenset(kinds), handler)


def enqueue(event: TicketEvent) -> None:
    """Called by `changes.record` inside the change's transaction."""
    insert_rows(
        [
            OutboxItem(event=event, consumer=c.name, next_attempt_at=event.at)
            for c in CONSUMERS.values()
            if event.kind in c.kinds
        ]
    )


def _hand(consumer: Consumer, items: list[OutboxItem]) -> None:
    with transaction.atomic():
        events = list(
            TicketEvent.objects.filter(pk__in=[i.event_id for i in items])
            .select_related("ticket", "ticket__desk", "actor")
            .order_by("id")
        )
        # The tickets' workflows by checksum (compiled once per process), not each
        # ticket's version row with its whole source text.
        checksums = dict(
            WorkflowVersion.objects.filter(
                pk__in={e.ticket.workflow_id for e in events}
            ).values_list("pk", "checksum")
        )
        for event in events:
            event.ticket.workflow_checksum = checksums[event.ticket.workflow_id]
        consumer.handler(events)
        OutboxItem.objects.filter(pk__in=[i.pk for i in items]).delete()


def deliver(name: str, *, batch: int = 100) -> int:
    """Hand one batch of due entries to consumer `name`; returns how many it took."""
    return _deliver(name, batch)[1]


def _deliver(name: str, batch: int) -> tuple[int, int]:
    """(entries claimed, entries taken by the handler)."""
    consumer = CONSUMERS[name]
    now = clock.now()
    ids = jobs_claim(QUEUE, now=now, batch=batch, where=Q(consumer=name))
    if not ids:
        return 0, 0
    items = list(OutboxItem.objects.filter(pk__in=ids).order_by("id"))
    try:
        _hand(consumer, items)
        return len(items), len(items)
    except Exception as exc:
        if len(items) == 1:
            _failed(consumer, items[0], exc, now)
            return 1, 0
        log.warning("outbox consumer %s failed on a batch; trying its entries one by one", name)
    taken = 0
    for item in items:
        try:
            _hand(consumer, [item])
            taken += 1
        except Exception as exc:
            _failed(consumer, item, exc, now)
    return len(items), taken


def _failed(consumer: Consumer, item: OutboxItem, exc: Exception, now: datetime) -> None:
    log.exception("outbox consumer %s failed on history entry %s", consumer.name, item.event_id)
    job_failed(QUEUE, item, error=f"{type(exc).__name__}: {exc}", now=now)


def deliver_all(*, limit: int = 10_000) -> int:
    """Everything due for every consumer (up to `limit` entries claimed per consumer);
    returns how many entries the consumers took."""
    total = 0
    for name in list(CONSUMERS):
        claimed = 0
        while claimed < limit:
            n, taken = _deliver(name, 100)
            if not n:
                break
            claimed += n
            total += taken
    return total
