"""Releases of a desk's product, the fixes they carry, and what runs where at each customer.

A desk's product has version lines (say "7" and "8"), each an ordered list of releases.
The order is explicit (`position`), because customer version labels are not all sortable
by rule. A ticket is fixed in one or more releases (a backport is a second fix on another
line), each with a note for customers per language, read by the ticket's organisation
only or, when staff say so, by every customer of the desk. An organisation declares its
environments, each with a tier the workflow's release events name (TEST, PROD, or the
desk's own); nothing is guessed from an environment's name. Deployments are append-only:
which release reached which environment, when, and who or what sent it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casedesk.accounts.models import Organisation
from casedesk.desks.models import Desk
from casedesk.tickets.models import AppendOnly, Ticket


class VersionLine(models.Model):
    """One line of the desk's product versions; releases on it are ordered."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="version_lines")
    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["desk", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "name"], name="version_line_name_per_desk")
        ]

    def __str__(self) -> str:
        return self.name


class Release(models.Model):
    """A version on a line. `position` orders the line; `published_on` says the update
    is out (available to install), which some workflows react to."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="releases")
    line = models.ForeignKey(VersionLine, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    published_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["line", "position"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "version"], name="release_version_per_desk"),
            models.UniqueConstraint(fields=["line", "position"], name="release_position_per_line"),
        ]

    def __str__(self) -> str:
        return self.version

    def carries(self, fix: TicketFix) -> bool:
        return fix.line_id == self.line_id and fix.position <= self.position


class TicketFix(models.Model):
    """A ticket fixed in a release. `line` and `position` copy the release's, and `open`
    follows the ticket (an observer), so the tickets a deployment concerns are one range
    read on an index: open fixes of one organisation on one line up to one position."""

    class Kind(models.TextChoices):
        FIX = "fix", "fix"
        CHANGE = "change", "change"

    class Audience(models.TextChoices):
        # a note written with one organisation's specifics stays with that organisation
        ORGANISATION = "organisation", "the ticket's organisation"
        EVERYONE = "everyone", "every customer of the desk"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="fixes")
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="fixes")
    line = models.ForeignKey(VersionLine, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.FIX)
    notes = models.JSONField(default=dict, blank=True, help_text="Note for customers per language")
    audience = models.CharField(
        max_length=12,
        choices=Audience.choices,
        default=Audience.ORGANISATION,
        db_default=Audience.ORGANISATION,
        help_text="Who reads the note in What's new: the ticket's organisation, or every "
        "customer of the desk (the release note)",
    )
    open = models.BooleanField(default=True)
    # A fix the customer rejected no longer counts: the ticket went back to development.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["release", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "release"], name="one_fix_per_release")
        ]
        indexes = [
            models.Index(
                fields=["organisation", "line", "position"],
                condition=models.Q(open=True, withdrawn_at__isnull=True),
                name="fix_waiting",
            ),
            models.Index(
                fields=["line", "position"],
                condition=models.Q(open=True, withdrawn_at__isnull=True),
                name="fix_waiting_on_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} in {self.release_id}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class Environment(models.Model):
    """An installation of the product at a customer, with its declared tier."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="environments"
    )
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=40)
    tier = models.CharField(
        max_length=40, help_text="The tier the workflow's release events name: TEST, PROD..."
    )
    position = models.PositiveIntegerField(default=0)
    # What runs there now: the deployment with the latest time, whatever order they came in.
    current = models.ForeignKey(
        "Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organisation", "desk", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "desk", "name"], name="environment_name_per_org"
            )
        ]
        indexes = [models.Index(fields=["organisation", "desk", "tier"], name="environment_tier")]

    def __str__(self) -> str:
        return f"{self.name} ({self.tier})"


class Deployment(AppendOnly):
    """A release reached an environment. `pipeline_id` is the sender's own id for it: the
    same id sent again is the same deployment."""

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="deployments"
    )
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="deployments")
    deployed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    pipeline_id = models.CharField(max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-deployed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "pipeline_id"], name="deployment_pipeline_id")
        ]
        indexes = [
            models.Index(fields=["environment", "-deployed_at"], name="deployment_environment"),
            models.Index(fields=["release", "organisation"], name="deployment_release"),
        ]

    def __str__(self) -> str:
        return f"{self.release_id} in {self.environment_id} at {self.deployed_at:%Y-%m-%d %H:%M}"


class Acceptance(AppendOnly):
    """A customer's verdict on a fix in one environment tier, in one cycle of the ticket:
    the move the workflow gives the customer out of the status a release event placed the
    ticket in. A move that sends the fix back (it empties the fix version, or reopens)
    is a rejection, with the customer's words as its reason."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="acceptances")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    tier = models.CharField(max_length=40)
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cycle = models.PositiveIntegerField()
    round = models.PositiveIntegerField(help_text="1 for the first verdict in this tier and cycle")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    transition = models.CharField(max_length=60)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["ticket", "at", "id"]
        indexes = [models.Index(fields=["ticket", "tier", "cycle"], name="acceptance_ticket")]

    def __str__(self) -> str:
        return f"{self.verdict} in {self.tier} for {self.ticket_id}"
