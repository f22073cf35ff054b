"""Sending deliveries: the worker's sweep hands due ones to tasks; a task makes one attempt.

Deliveries are durable jobs (casedesk.jobs.queue). A delivery due now (by the injected
clock, like timers) is claimed by one worker with SKIP LOCKED, for a lease, and queued as a
background task; a task that never runs leaves the lease to run out, and the delivery is
queued again. An attempt signs the payload, posts it through `net.post`, and records what
happened. A failure waits on the jobs' schedule and is held (`failed`, for staff to retry
or discard) after CASEDESK_WEBHOOK_MAX_ATTEMPTS; a subscription whose attempts fail
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
from django.db.models import F, Q

from casedesk.common import clock
from casedesk.jobs.queue import Queue, job_failed, job_lease, jobs_claim, queue_register
from casedesk.web.messages import say

from . import net
from .models import AllowedNetwork, WebhookAttempt, WebhookDelivery, WebhookSubscription

log = logging.getLogger("casedesk.webhooks")


def lease() -> timedelta:
    """A queued delivery whose task never ran is queued again after the job lease and
    half as long again (the task waits its turn in the task queue first)."""
    return job_lease() * 1.5


QUEUE = queue_register(
    Queue(
        name="webhooks",
        model=WebhookDelivery,
        # (queued ones are due again only when their lease ran out)
        ready=Q(
            state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.QUEUED],
            subscription__active=True,
        ),
        claimed={"state": WebhookDelivery.State.QUEUED},
        held={"state": WebhookDelivery.State.FAILED},
        retried={"state": WebhookDelivery.State.PENDING},
        max_attempts=lambda: settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS,
    )
)
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
        ids = jobs_claim(QUEUE, now=now, batch=batch, lease=lease())
        if not ids:
            return 0
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
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
            state=WebhookDelivery.State.PENDING,
            queued_at=None,
            attempts=F("attempts") - 1,
            next_attempt_at=clock.now(),
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
        error = say(exc.problem, "en")
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
        subs = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
        delivery.queued_at = None
        if ok:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.save(update_fields=["state", "delivered_at", "next_attempt_at", "queued_at"])
            subs.update(consecutive_failures=0)
            return
        delivery.state = WebhookDelivery.State.PENDING
        delivery.save(update_fields=["state", "queued_at"])
        job_failed(QUEUE, delivery, error=error, now=now)
        subs.update(consecutive_failures=F("consecutive_failures") + 1)
        limit = settings.CASEDESK_WEBHOOK_DISABLE_AFTER
        switched = subs.filter(active=True, consecutive_failures__gte=limit).update(
            active=False,
            disabled_at=now,
            disabled_reason=f"{limit} failed attempts in a row; the last: {error}"[:300],
        )
        if switched:
            log.warning("webhook subscription %s switched off: %s", delivery.subscription_id, error)
