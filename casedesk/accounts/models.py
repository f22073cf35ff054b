"""Customer organisations and the people of both sides."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from casedesk.common.errors import invalid
from casedesk.common.settings_checks import check_on_save, validate_language, validate_time_zone

CUSTOMER_ROLES = [
    ("member", "Member"),
    ("approver", "Approver"),
    ("org_admin", "Organisation admin"),
]
STAFF_ROLES = [("agent", "Agent"), ("lead", "Lead"), ("admin", "Admin")]


class Organisation(models.Model):
    """A customer company. Its members see its tickets in the portal."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    language = models.CharField(max_length=8, default="en", validators=[validate_language])
    members_see_all_tickets = models.BooleanField(
        default=True,
        help_text="Members see every ticket of the organisation, not only their own.",
    )
    notify_all_members_on_new = models.BooleanField(
        default=False,
        help_text="Every member is told when anyone in the organisation opens a ticket.",
    )
    # Set once a desk opens tickets for strangers' mail in this organisation (the contacts
    # of people nobody knows): from then on its members never see each other's tickets,
    # whichever interface tries to change that (the database refuses it too).
    holds_strangers = models.BooleanField(
        default=False,
        editable=False,
        help_text="Holds the contacts a desk makes for unknown senders; never shares tickets.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(holds_strangers=True) & Q(members_see_all_tickets=True)),
                name="strangers_never_share_tickets",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        check_on_save(self, ("language",), kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.holds_strangers and self.members_see_all_tickets:
            raise ValidationError(
                {"members_see_all_tickets": invalid("organisation.strangers_share")}
            )


def person_name(first_name: str, last_name: str, username: str) -> str:
    """How pages name a person: their full name, else their user name."""
    return f"{first_name} {last_name}".strip() or username


class CasedeskUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("kind", User.Kind.STAFF)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person: a customer (member of one organisation) or supplier staff."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        STAFF = "staff", "Supplier staff"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    customer_role = models.CharField(max_length=12, choices=CUSTOMER_ROLES, blank=True)
    language = models.CharField(
        max_length=8, blank=True, validators=[validate_language], help_text="Preferred language"
    )
    # blank: the browser's zone, else each desk's
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="The time zone this person reads times in (blank: their browser's)",
    )

    objects: ClassVar[CasedeskUserManager] = CasedeskUserManager()

    class Meta:
        ordering = ["username", "id"]
        constraints = [
            models.CheckConstraint(
                name="customer_has_organisation_and_role",
                condition=Q(kind="staff", organisation__isnull=True, customer_role="")
                | Q(kind="customer", organisation__isnull=False) & ~Q(customer_role=""),
            ),
        ]

    def __str__(self) -> str:
        return person_name(self.first_name, self.last_name, self.username)

    def save(self, *args, **kwargs):
        check_on_save(
            self, ("kind", "customer_role", "language", "time_zone"), kwargs.get("update_fields")
        )
        super().save(*args, **kwargs)

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    @property
    def is_supplier_staff(self) -> bool:
        return self.kind == self.Kind.STAFF
