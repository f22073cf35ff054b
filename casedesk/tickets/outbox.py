"""Reacting to ticket history from outside the change: notifications, webhooks.

A consumer (mail, webhooks...) registers the kinds of history entries it cares about. When a
service writes such an entry, an OutboxItem for that consumer is written in the same
transaction, so the reaction exists exactly when the change committed: nothing is sent for
a change that rolled back, and nothing is lost when the process dies after the commit.

The worker hands pending items to their consumer in id order, a batch per transaction,
claiming them with SKIP LOCKED on PostgreSQL so several workers share the work. A handler
that raises leaves its batch for the next round (and it is logged); handlers make their
own effects idempotent (an outbound mail row per event and recipient, say).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from .models import OutboxItem, TicketEvent

log = logging.getLogger("casedesk.outbox")

Handler = Callable[[list[TicketEvent]], None]


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
    items = [
        OutboxItem(event=event, consumer=c.name)
        for c in CONSUMERS.values()
        if event.kind in c.kinds
    ]
    if items:
        OutboxItem.objects.bulk_create(items)


def deliver(name: str, *, batch: int = 100) -> int:
    """Hand one batch of pending entries to consumer `name`; returns how many."""
    consumer = CONSUMERS[name]
    try:
        with transaction.atomic():
            items = list(
                OutboxItem.objects.filter(consumer=name)
                .select_for_update(skip_locked=True)
                .order_by("id")[:batch]
            )
            if not items:
                return 0
            events = list(
                TicketEvent.objects.filter(pk__in=[i.event_id for i in items])
                .select_related("ticket", "actor")
                .order_by("id")
            )
            consumer.handler(events)
            OutboxItem.objects.filter(pk__in=[i.pk for i in items]).delete()
            return len(items)
    except Exception:
        log.exception("outbox consumer %s failed; its batch stays for the next round", name)
        return 0


def deliver_all(*, limit: int = 10_000) -> int:
    """Everything pending for every consumer (up to `limit` entries per consumer)."""
    total = 0
    for name in list(CONSUMERS):
        done = 0
        while done < limit:
            n = deliver(name)
            if not n:
                break
            done += n
        total += done
    return total
