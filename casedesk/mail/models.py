"""Mail in and out: each desk's address and policy, every mail received (raw bytes kept)
and every mail sent or to be sent, and what each person wants to be told."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from casedesk.accounts.models import Organisation
from casedesk.common.errors import invalid
from casedesk.common.settings_checks import check_on_save
from casedesk.desks.models import Desk
from casedesk.jobs.models import Job
from casedesk.tickets.models import Attachment, Comment, Ticket, TicketEvent


class DeskMail(models.Model):
    """A desk's mail address, and what it does with mail from people it does not know and
    with mail whose sender is not proven."""

    class UnknownSenders(models.TextChoices):
        REJECT = "reject", "Refuse, with a polite reply"
        OPEN = "open", "Open a ticket and a contact"
        HOLD = "hold", "Hold for staff review"

    class UnverifiedSenders(models.TextChoices):
        HOLD = "hold", "Hold for staff review"
        MARK = "mark", "Add a customer's reply as a comment marked unverified"

    desk = models.OneToOneField(Desk, on_delete=models.CASCADE, related_name="mail")
    address = models.EmailField(unique=True, help_text="Mail to this address reaches the desk")
    display_name = models.CharField(max_length=120, blank=True)
    unknown_senders = models.CharField(
        max_length=10, choices=UnknownSenders.choices, default=UnknownSenders.HOLD
    )
    contact_organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where contacts made from unknown senders belong (policy 'open')",
    )
    team_address = models.EmailField(
        blank=True,
        help_text="The support team's own mailbox: told of every new ticket (seed 003)",
    )
    unverified_senders = models.CharField(
        max_length=10,
        choices=UnverifiedSenders.choices,
        default=UnverifiedSenders.HOLD,
        help_text="Mail whose sender nothing proves: it never acts as staff, opens no ticket "
        "and moves none; held, or (a customer's reply to a ticket) shown marked unverified",
    )
    sender_limit_per_hour = models.PositiveIntegerField(
        default=30, help_text="More mails than this from one sender in an hour are held"
    )

    class Meta:
        ordering = ["address"]
        verbose_name = "desk mail address"

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):
        self.address = self.address.strip().lower()
        self.team_address = self.team_address.strip()
        check_on_save(
            self, ("address", "team_address", "unknown_senders"), kwargs.get("update_fields")
        )
        with transaction.atomic():
            super().save(*args, **kwargs)
            if self.unknown_senders == self.UnknownSenders.OPEN and self.contact_organisation_id:
                # from now on the organisation never shares tickets among its members; the
                # database refuses this while they still do (clean() says so first)
                Organisation.objects.filter(pk=self.contact_organisation_id).update(
                    holds_strangers=True
                )

    def clean(self) -> None:
        if self.team_address and self.team_address.strip().lower() == self.address.lower():
            raise ValidationError({"team_address": invalid("mail.team_address.loop")})
        if self.unknown_senders != self.UnknownSenders.OPEN:
            return
        org = self.contact_organisation
        if org is None:
            raise ValidationError(
                {"contact_organisation": invalid("mail.strangers.organisation_required")}
            )
        if org.members_see_all_tickets:
            # strangers must not read each other's tickets (or answer on them by mail)
            raise ValidationError(
                {"contact_organisation": invalid("mail.strangers.organisation_shares")}
            )
        if self.desk_id and not self.desk.organisations.filter(pk=org.pk).exists():
            raise ValidationError(
                {"contact_organisation": invalid("mail.strangers.organisation_elsewhere")}
            )


class MailPreferences(models.Model):
    """Which notifications a person gets; without a row, all of them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preferences"
    )
    new_tickets = models.BooleanField(default=True)
    comments = models.BooleanField(default=True)
    status_changes = models.BooleanField(default=True)
    your_turn = models.BooleanField(default=True)
    reminders = models.BooleanField(default=True)
    assignments = models.BooleanField(default=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name_plural = "mail preferences"

    def __str__(self) -> str:
        return f"mail preferences of {self.user}"


class InboundMail(models.Model):
    """One mail received for a desk, with its raw bytes and what became of it."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Opened a ticket"
        COMMENTED = "commented", "Added to a ticket"
        AUTOMATIC = "automatic", "Automatic mail, recorded only"
        HELD = "held", "Held for staff review"
        REJECTED = "rejected", "Refused"
        DROPPED = "dropped", "Our own mail, dropped"
        DISCARDED = "discarded", "Discarded by staff"

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=500)
    transport = models.CharField(max_length=10)
    received_at = models.DateTimeField()
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # a mail that must never be answered automatically (auto-replies, lists, bulk)
    no_reply = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)
    # what the transport knew (envelope sender and recipients, the MTA's client), so a
    # held mail is checked again with the same facts
    envelope = models.JSONField(default=dict, blank=True)
    # what proved the sender ("mta", "dkim", "spf", "reply address"), "" when nothing did
    proven_by = models.CharField(max_length=20, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    raw = models.BinaryField(editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "received mail"
        constraints = [
            models.UniqueConstraint(fields=["desk", "message_id"], name="one_mail_per_message_id")
        ]
        indexes = [
            models.Index(fields=["from_address", "received_at"], name="inbound_sender_time"),
            models.Index(fields=["desk", "outcome", "-received_at"], name="inbound_desk_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.subject[:60]} from {self.from_address}"


class OutboundMail(Job):
    """A mail Casedesk sends (a notification, a reply, a staff member's mail), kept as sent.

    The worker sends pending rows with retries and backoff (a durable job); after the last
    attempt a row is `failed` and held, shown to staff, never dropped.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"
        SKIPPED = "skipped", "Not sent"

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_mail"
    )
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inbound = models.ForeignKey(
        InboundMail, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    kind = models.CharField(max_length=20)
    # one row per (event, kind, recipient): running a handler twice sends nothing twice
    key = models.CharField(max_length=400, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.JSONField(default=list)
    # the first address of `to`, for limits per address and for searching
    address = models.CharField(max_length=320, db_index=True, blank=True)
    cc = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, default="en")
    from_address = models.CharField(max_length=400)
    reply_to = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=400)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    automatic = models.BooleanField(default=True)
    attachments = models.ManyToManyField(Attachment, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sent mail"
        verbose_name_plural = "sent mail"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["desk", "status", "-created_at"], name="outbound_desk_status"),
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.subject[:60]} to {', '.join(self.to)}"

    def save(self, *args, **kwargs):
        self.address = (self.to[0] if self.to else "").lower()
        super().save(*args, **kwargs)
