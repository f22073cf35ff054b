"""Service levels: business calendars, SLA plans, and the clocks they put on tickets.

The configuration (a desk's calendar, its plans and which organisation is on which plan)
is edited through `services.py`; every edit also writes a `SlaRevision`, the complete
configuration of the desk from that moment, so the clocks of any ticket can be computed
again from its history and the revisions in force (`casedesk sla rebuild`), and an edit or
a package upgrade never silently changes what past tickets measured.

A ticket's clocks are kept twice: `TicketSla.state` is the pure engine's state
(`casedesk.workflow.sla.Clocks`), stepped by every change in its own transaction;
`TicketClock` rows are that state laid out for indexes (due and warning times, breached),
and are the durable jobs the worker fires warnings and breaches from.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from casedesk.accounts.models import Organisation
from casedesk.desks.models import Desk
from casedesk.jobs.models import Job
from casedesk.tickets.models import Ticket

TARGETS = [
    ("first_response", "First response"),
    ("next_response", "Next response"),
    ("resolution", "Resolution"),
]
DAY_KINDS = [
    ("holiday", "Public holiday"),
    ("closure", "Closed"),
    ("short", "Short day"),
]


class BusinessCalendar(models.Model):
    """When a desk is open: a time zone, weekly hours, or 24x7; dated days below."""

    desk = models.OneToOneField(Desk, on_delete=models.CASCADE, related_name="sla_calendar")
    zone = models.CharField(max_length=64, help_text="An IANA time zone, e.g. Europe/Copenhagen")
    always = models.BooleanField(default=False, help_text="Open 24 hours, 7 days a week")
    # Monday first: seven lists of [start, end] in minutes after local midnight
    week = models.JSONField(default=list, blank=True)
    holiday_country = models.CharField(max_length=2, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    # False: customers see only whether the targets are met, no due times or hours
    customers_see_times = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["desk_id"]

    def __str__(self) -> str:
        return f"{self.desk} ({self.zone})"


class CalendarDay(models.Model):
    """A day whose hours differ from the week: a public holiday (imported, with the
    version of the `holidays` package it came from), a closure or a short day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=DAY_KINDS)
    name = models.CharField(max_length=200, blank=True)
    hours = models.JSONField(default=list, blank=True)  # [[start, end], ...]; none: closed
    source_version = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["calendar_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="one_exception_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.name}"


class SlaPlan(models.Model):
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="sla_plans")
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="plans")
    # a plan may run on its own 24x7 time instead of the desk's hours
    around_the_clock = models.BooleanField(default=False)
    desk_default = models.BooleanField(default=False)
    warn_percent = models.PositiveSmallIntegerField(default=80)

    class Meta:
        ordering = ["desk_id", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "slug"], name="plan_slug_per_desk"),
            models.UniqueConstraint(
                fields=["desk"], condition=Q(desk_default=True), name="one_default_plan_per_desk"
            ),
            models.CheckConstraint(
                condition=Q(warn_percent__gt=0, warn_percent__lt=100), name="warn_inside_target"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    plan = models.ForeignKey(SlaPlan, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=60)
    target = models.CharField(max_length=20, choices=TARGETS)
    minutes = models.PositiveIntegerField(help_text="Business minutes allowed")

    class Meta:
        ordering = ["plan_id", "priority", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "priority", "target"], name="one_target_per_priority"
            ),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="target_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.priority} {self.target} {self.minutes} min"


class OrganisationPlan(models.Model):
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(SlaPlan, on_delete=models.PROTECT, related_name="organisations")

    class Meta:
        ordering = ["desk_id", "organisation_id"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "organisation"], name="one_plan_per_customer")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} on {self.plan_id}"


class SlaRevision(models.Model):
    """The desk's whole SLA configuration from `at` on (append-only): the calendar as the
    engine reads it, each plan's limits and which organisation is on which plan."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    calendar = models.JSONField()  # calendar_to_data of the desk's calendar
    plans = models.JSONField()  # {plan id: {"always": bool, "warn": pct, "limits": {...}}}
    organisations = models.JSONField()  # {organisation id: plan id}
    default_plan = models.IntegerField(null=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["desk_id", "at", "id"]
        indexes = [models.Index(fields=["desk", "at", "id"], name="sla_revision_desk_at")]

    def __str__(self) -> str:
        return f"{self.desk_id} from {self.at:%Y-%m-%d %H:%M}: {self.note}"


class TicketSla(models.Model):
    """The engine's clock state of one ticket, and the revision it was computed on."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="sla")
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(SlaRevision, on_delete=models.PROTECT, related_name="+")
    plan_id = models.IntegerField(null=True)
    state = models.JSONField()
    open_clocks = models.BooleanField(default=True)

    class Meta:
        ordering = ["ticket_id"]
        indexes = [
            models.Index(
                fields=["desk"], condition=Q(open_clocks=True), name="sla_ticket_open_clocks"
            )
        ]

    def __str__(self) -> str:
        return f"clocks of {self.ticket_id}"


class TicketClock(Job):
    """One clock of one ticket: a target in a cycle. `due_at` and `warn_at` are when a
    running clock passes its target and its warning mark; `fire_at` and `warn_fire_at`
    are the same times as the worker's queue sees them (cleared once fired, so each
    threshold fires once), indexed so a sweep reads only what is due."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()  # its place among the ticket's clocks
    cycle = models.PositiveIntegerField()
    target = models.CharField(max_length=20, choices=TARGETS)
    started_at = models.DateTimeField()
    limit_seconds = models.PositiveIntegerField()
    used_seconds = models.IntegerField(default=0)  # up to `measured_at`
    measured_at = models.DateTimeField()
    running = models.BooleanField(default=True)
    paused_by = models.CharField(max_length=60, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    breach_reason = models.CharField(max_length=20, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    breach_fired_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "seq"], name="one_clock_per_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} #{self.cycle}"

    @property
    def open(self) -> bool:
        return self.met_at is None and self.stopped_at is None
