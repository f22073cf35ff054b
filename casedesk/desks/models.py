"""Desks, the workflow versions they run, their teams and staff."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from casedesk.accounts.models import STAFF_ROLES, Organisation
from casedesk.common.settings_checks import check_on_save, validate_time_zone
from casedesk.workflow import Workflow, load_text

# Versions are immutable and named by their checksum, so a compiled workflow can be kept
# for the life of the process under that name.
_COMPILED: dict[str, Workflow] = {}


def compiled_workflow(checksum: str, source: str | None = None, origin: str = "") -> Workflow:
    """The loaded workflow with this checksum (reading its source only the first time)."""
    wf = _COMPILED.get(checksum)
    if wf is None:
        if source is None:
            source, origin = WorkflowVersion.objects.values_list("source", "origin").get(
                checksum=checksum
            )
        wf = _COMPILED[checksum] = load_text(source, origin or checksum[:8])
    return wf


class WorkflowVersion(models.Model):
    """An immutable, checked workflow file. Tickets point to the version they run on."""

    slug = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64, unique=True)
    source = models.TextField()
    origin = models.CharField(max_length=200, help_text="The file it was loaded from")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version} ({self.checksum[:8]})"

    @property
    def workflow(self) -> Workflow:
        if self.checksum in _COMPILED:
            return _COMPILED[self.checksum]
        return compiled_workflow(self.checksum, self.source, self.origin or self.slug)


key_prefix_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$",
    "A key prefix is 2 to 10 capital letters or digits, starting with a letter.",
)


class Desk(models.Model):
    """One service offering: its own ticket keys, workflow, teams and customers."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    key_prefix = models.CharField(max_length=10, unique=True, validators=[key_prefix_validator])
    workflow = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="desks")
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="An IANA time zone name, such as Europe/Copenhagen",
    )
    # The number the next ticket gets; taken under a row lock, so keys are gapless.
    next_number = models.PositiveBigIntegerField(default=1, editable=False)
    organisations = models.ManyToManyField(Organisation, related_name="desks", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    def save(self, *args, **kwargs):
        check_on_save(self, ("key_prefix", "time_zone"), kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class Team(models.Model):
    """A group of staff a ticket can be routed to (support, development, operations...)."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["desk_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["desk", "slug"], name="team_slug_per_desk")]

    def __str__(self) -> str:
        return f"{self.name} ({self.desk.key_prefix})"


class StaffMembership(models.Model):
    """A supplier staff member's role on one desk. No membership, no access."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_memberships"
    )
    role = models.CharField(max_length=10, choices=STAFF_ROLES, default="agent")

    class Meta:
        ordering = ["desk_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["desk", "user"], name="one_role_per_desk")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} on {self.desk.key_prefix}"

    def save(self, *args, **kwargs):
        check_on_save(self, ("role",), kwargs.get("update_fields"))
        super().save(*args, **kwargs)
