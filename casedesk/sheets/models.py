"""The service sheet: the work logged on a ticket, per cycle, and its approval.

Entries are written once. A mistake is put right by a new entry that corrects it (the
sheet then counts the correction instead), so what a customer approved can always be
read back. An approved or invoiced sheet is locked: its entries and its state change no
more, except that invoicing marks each entry once with the run that invoiced it (on
PostgreSQL a trigger refuses anything else, migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casedesk.accounts.models import Organisation
from casedesk.desks.models import Desk
from casedesk.tickets.models import Ticket
from casedesk.workflow.estimate import awaiting_grant
from casedesk.workflow.sheet import MAX_MINUTES_PER_ENTRY, STATES, Rounding


class WorkKind(models.Model):
    """A kind of work a desk logs (consulting, development, travel...), billable or not
    unless the person logging says otherwise."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="work_kinds")
    slug = models.SlugField(max_length=40)
    # the name in each language the desk speaks, e.g. {"en": "Consulting", "cs": "Konzultace"}
    labels = models.JSONField(default=dict)
    billable = models.BooleanField(default=True, help_text="Billable unless said otherwise")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["desk", "position", "slug"]
        constraints = [models.UniqueConstraint(fields=["desk", "slug"], name="one_kind_per_slug")]

    def __str__(self) -> str:
        return f"{self.desk.key_prefix}: {self.slug}"

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.slug


class RoundingRule(models.Model):
    """How an organisation is billed: worked minutes rounded per entry. A rule for a kind
    of work wins over the organisation's rule for all kinds; without one, minutes are
    billed as worked."""

    class Mode(models.TextChoices):
        UP = "up", "Up"
        NEAREST = "nearest", "To the nearest"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="rounding_rules"
    )
    kind = models.ForeignKey(
        WorkKind, null=True, blank=True, on_delete=models.CASCADE, related_name="rounding_rules"
    )
    increment = models.PositiveSmallIntegerField(default=15, help_text="Minutes")
    minimum = models.PositiveSmallIntegerField(default=0, help_text="Minutes billed at least")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.UP)

    class Meta:
        ordering = ["organisation", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="one_rule_per_kind"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(kind__isnull=True), name="one_default_rule"
            ),
            models.CheckConstraint(
                condition=Q(increment__gte=1, increment__lte=MAX_MINUTES_PER_ENTRY)
                & Q(minimum__lte=MAX_MINUTES_PER_ENTRY),
                name="rounding_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.kind or 'all kinds'} per {self.increment} min"

    @property
    def rounding(self) -> Rounding:
        return Rounding(increment=self.increment, minimum=self.minimum, mode=self.mode)  # type: ignore[arg-type]


class InvoiceRun(models.Model):
    """A finalised invoice basis: one organisation, one period, the entries it marked and
    the files it gave, kept so exporting it again gives the same bytes."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoice_runs"
    )
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    finalised_at = models.DateTimeField()
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entries = models.PositiveIntegerField(default=0)
    worked_minutes = models.PositiveIntegerField(default=0)
    billed_minutes = models.PositiveIntegerField(default=0)
    csv = models.BinaryField()
    xlsx = models.BinaryField()
    csv_sha256 = models.CharField(max_length=64)
    xlsx_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-finalised_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-finalised_at"], name="run_org_recent")]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.period_start} to {self.period_end}"


class Sheet(models.Model):
    """The service sheet of one cycle of a ticket."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        SUBMITTED = "submitted", "Submitted for approval"
        RETURNED = "returned", "Returned"
        APPROVED = "approved", "Approved"
        INVOICED = "invoiced", "Invoiced"

    class ApprovedBy(models.TextChoices):
        CUSTOMER = "customer", "The customer"
        STAFF = "staff", "Staff, recording the customer's approval"
        TIMER = "timer", "The approval period"
        CLOSING = "closing", "Closing the ticket"

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="sheets")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    cycle = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    # the automatic approval the customer was told of when the sheet was submitted
    approves_automatically_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_how = models.CharField(max_length=10, choices=ApprovedBy.choices, blank=True)
    invoiced_at = models.DateTimeField(null=True, blank=True)
    # the printed sheet as approved, and its checksum
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["ticket", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "cycle"], name="one_sheet_per_cycle"),
            models.CheckConstraint(condition=Q(state__in=STATES), name="sheet_state_known"),
        ]
        indexes = [models.Index(fields=["organisation", "state"], name="sheet_org_state")]

    def __str__(self) -> str:
        return f"{self.ticket_id} cycle {self.cycle}: {self.state}"


class TimeEntry(models.Model):
    """Work done on a ticket: who, on which day of the desk's calendar, how long, what."""

    sheet = models.ForeignKey(Sheet, on_delete=models.PROTECT, related_name="entries")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="time_entries")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(help_text="The day in the desk's time zone")
    minutes = models.PositiveIntegerField()
    kind = models.ForeignKey(WorkKind, on_delete=models.PROTECT, related_name="entries")
    billable = models.BooleanField()
    description = models.TextField(help_text="Customers read this")
    # the entry this one puts right; the sheet counts this one instead
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    # why the system made this correction ("cancelled": the ticket was cancelled, so the
    # work is not billed); empty for people's own entries
    reason = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, default="web")
    created_at = models.DateTimeField()
    invoice_run = models.ForeignKey(
        InvoiceRun, null=True, blank=True, on_delete=models.PROTECT, related_name="marked"
    )

    class Meta:
        ordering = ["day", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__lte=MAX_MINUTES_PER_ENTRY), name="entry_at_most_a_day"
            ),
            models.CheckConstraint(
                condition=Q(minutes__gt=0) | Q(corrects__isnull=False),
                name="entry_has_work_unless_correction",
            ),
        ]
        indexes = [
            models.Index(fields=["sheet", "day", "id"], name="entry_sheet_day"),
            models.Index(fields=["organisation", "day"], name="entry_org_day"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket_id} ({self.day})"


class Estimate(models.Model):
    """The hours a ticket is expected to take, and the customer's grant of them. Staff set
    it; an approver of the organisation grants it as it stands. A raise above the granted
    hours withdraws the grant (`granted_hours` stays as the last grant, `awaiting` says
    so); the rules are `workflow.estimate`, the writes `sheets.estimates`."""

    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="estimate")
    hours = models.DecimalField(max_digits=7, decimal_places=2)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_hours = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # when logged time reached 80 % (staff warned) and 100 % (customer told) of `hours`;
    # cleared by a raise, so a new estimate is measured afresh
    warned_at = models.DateTimeField(null=True, blank=True)
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="estimate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.hours} h"

    @property
    def awaiting(self) -> bool:
        return awaiting_grant(self.hours, self.granted_hours)
