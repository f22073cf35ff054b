"""Quotes on a ticket: what the supplier offers (hours or an amount), for how long, and
what the customer answered. Kept beside the ticket, written only under its lock by the
quote services, and recorded in its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casedesk.tickets.models import Ticket
from casedesk.workflow.quote import STATES


class Quote(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="quotes")
    desk_id = models.BigIntegerField(db_index=True)
    organisation_id = models.BigIntegerField()
    number = models.PositiveIntegerField(help_text="1, 2, ... on its ticket")
    hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    text = models.TextField(help_text="What the customer reads")
    valid_until = models.DateField(help_text="The last day it may be accepted (desk's zone)")
    state = models.CharField(max_length=10, choices=[(s, s) for s in STATES], default="sent")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # staff recorded the customer's answer, given by phone or mail
    on_behalf = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="Why it was declined")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["ticket", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="one_quote_per_number"),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) ^ Q(amount__isnull=True),
                name="quote_hours_or_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.number}"
