"""Webhook subscriptions per desk, the deliveries made for them, and every attempt."""

from __future__ import annotations

import ipaddress
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from casedesk.common.errors import invalid
from casedesk.desks.models import Desk
from casedesk.jobs.models import Job
from casedesk.tickets.models import TicketEvent

EVENT_TYPES = [
    ("ticket.created", "A ticket was opened"),
    ("ticket.status_changed", "A ticket moved to another status"),
    ("ticket.commented", "A public comment was added"),
    ("ticket.assigned", "A ticket was given to a staff member"),
    ("ticket.timer_fired", "A workflow timer moved a ticket"),
    ("ticket.sla_warning", "An SLA target is close"),
    ("ticket.sla_breached", "An SLA target passed"),
    # -- the service sheet and hour estimates (casedesk.sheets)
    ("sheet.submitted", "A service sheet was submitted for the customer's approval"),
    ("sheet.approved", "A service sheet was approved"),
    ("sheet.returned", "A service sheet was returned by the customer"),
    ("sheet.invoiced", "The work of a service sheet was invoiced"),
    ("estimate.set", "An hour estimate was set, raised or lowered"),
    ("estimate.granted", "A customer approver granted the hour estimate"),
    ("estimate.withdrawn", "A raised estimate withdrew the earlier grant"),
    # -- releases (casedesk.releases)
    ("release.deployed", "A release reached a customer's environment"),
    ("quote.sent", "A quote was sent to the customer"),
    ("quote.accepted", "The customer accepted a quote"),
    ("quote.declined", "The customer declined a quote"),
]


class WebhookSubscription(models.Model):
    """Events of one desk, sent as signed JSON to one address."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event types to send; empty: all")
    secret = models.CharField(
        max_length=64, editable=False, help_text="Signs each delivery (HMAC-SHA256)"
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["desk_id", "id"]

    def __str__(self) -> str:
        return f"{self.url} for {self.desk.key_prefix}"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class AllowedNetwork(models.Model):
    """An address range webhooks may reach although it is private or local (an intranet
    system, say). Only supplier administrators set these, in the admin."""

    network = models.CharField(max_length=50, unique=True, help_text="e.g. 10.1.2.0/24 or ::1/128")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["network"]

    def __str__(self) -> str:
        return self.network

    def clean(self) -> None:
        try:
            self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
        except ValueError as exc:
            raise ValidationError(
                {"network": invalid("webhook.network.malformed", detail=str(exc)[:100])}
            ) from None


class WebhookDelivery(Job):
    """One event for one subscription. Made once per (subscription, history entry, type),
    so preparing the same entry twice sends nothing twice."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for its next attempt"
        QUEUED = "queued", "Handed to the worker"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Given up"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The history entry it tells of; none for news that is not a ticket's (a deployment,
    # made once with the deployment itself, whose pipeline id makes it unique).
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_type = models.CharField(max_length=40)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event", "event_type"], name="one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to subscription {self.subscription_id}: {self.state}"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: what answered, or what went wrong."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    address = models.CharField(max_length=64, blank=True, help_text="The IP address connected to")
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"attempt at {self.at:%Y-%m-%d %H:%M}: {self.status_code or self.error}"
