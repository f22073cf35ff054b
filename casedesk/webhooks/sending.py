"""Sending deliveries: the worker's sweep hands due ones to tasks; a task makes one attempt.

A delivery due now (by the injected clock, like timers) is claimed by one worker with SKIP
LOCKED and queued as a background task. An attempt signs the payload, posts it through
`net.post`, and records what happened. A failure waits longer each time (BACKOFF) and
gives up after CASEDESK_WEBHOOK_MAX_ATTEMPTS; a subscription whose attempts fail
CASEDESK_WEBHOOK_DISABLE_AFTER times in a row is switched off, with the reason, until an
admin switches it on again.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from casedesk.common import clock

from . import net
from .models import AllowedNetwork, WebhookAttempt, WebhookDelivery, WebhookSubscription

log = logging.getLogger("casedesk.webhooks")

BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720)]
STALE = timedelta(minutes=15)  # a queued delivery whose task never ran is queued again
USER_AGENT = "Casedesk-Webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def allowed_networks() -> list[net.Network]:
    return [
        ipaddress.ip_network(n, strict=False)
        for n in AllowedNetwork.objects.values_list("network", flat=True)
    ]


def deliveries_queue_due(*, batch: int = 200) -> int:
    """The worker's sweep: queue every delivery that is due; returns how many."""
    from .tasks import webhook_send

    now = clock.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.filter(
                state=WebhookDelivery.State.PENDING,
                next_attempt_at__lte=now,
                subscription__active=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
        stale = list(
            WebhookDelivery.objects.filter(
                state=WebhookDelivery.State.QUEUED, queued_at__lt=now - STALE
            )
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:batch]
        )
        ids = due + stale
        if not ids:
            return 0
        WebhookDelivery.objects.filter(pk__in=ids).update(
            state=WebhookDelivery.State.QUEUED, queued_at=now
        )
        for pk in ids:
            webhook_send.enqueue(delivery_id=pk)
    return len(ids)


def claim(delivery: WebhookDelivery, now) -> bool:
    """Take a queued delivery as read; if the sweep queued it twice (a task that seemed
    lost), only one of the tasks gets it."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery.pk, state=WebhookDelivery.State.QUEUED, queued_at=delivery.queued_at
        ).update(queued_at=now)
    )


def delivery_attempt(delivery_id: int) -> bool:
    """Make one attempt at a queued delivery; True if it was delivered."""
    delivery = (
        WebhookDelivery.objects.select_related("subscription")
        .filter(pk=delivery_id, state=WebhookDelivery.State.QUEUED)
        .first()
    )
    if delivery is None:  # done meanwhile, or never queued
        return False
    sub = delivery.subscription
    if not sub.active:  # switched off after it was queued: it waits, uncounted
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.PENDING, queued_at=None
        )
        return False
    now = clock.now()
    if not claim(delivery, now):
        return False
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Casedesk-Event": delivery.event_type,
        "X-Casedesk-Delivery": str(delivery.uuid),
        "X-Casedesk-Signature": signature(sub.secret, timestamp, body),
    }
    answer = error = None
    try:
        answer = net.post(sub.url, body, headers, allowed_networks())
    except net.Refused as exc:
        error = str(exc)
    ok = answer is not None and 200 <= answer.status < 300
    if answer is not None and not ok:
        error = f"answered {answer.status}" + (
            " (redirects are not followed)" if 300 <= answer.status < 400 else ""
        )
    _record(delivery, now, answer, error or "", ok)
    return ok


def _record(delivery: WebhookDelivery, now, answer: net.Answer | None, error: str, ok: bool):
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            address=answer.address if answer else "",
            status_code=answer.status if answer else None,
            error=error[:300],
            duration_ms=answer.duration_ms if answer else 0,
            response_excerpt=answer.excerpt if answer else "",
        )
        delivery.attempts += 1
        subs = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
        if ok:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            subs.update(consecutive_failures=0)
        else:
            if delivery.attempts >= settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS:
                delivery.state = WebhookDelivery.State.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.state = WebhookDelivery.State.PENDING
                delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            subs.update(consecutive_failures=F("consecutive_failures") + 1)
            limit = settings.CASEDESK_WEBHOOK_DISABLE_AFTER
            switched = subs.filter(active=True, consecutive_failures__gte=limit).update(
                active=False,
                disabled_at=now,
                disabled_reason=f"{limit} failed attempts in a row; the last: {error}"[:300],
            )
            if switched:
                log.warning(
                    "webhook subscription %s switched off: %s", delivery.subscription_id, error
                )
        delivery.queued_at = None
        delivery.save(
            update_fields=["attempts", "state", "delivered_at", "next_attempt_at", "queued_at"]
        )
