"""Tickets and everything hanging off them.

Rows that belong to a ticket carry its desk too, so the data can one day be distributed by
desk. Workflow state is changed only by `services.py`; the admin shows it read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, Func, IntegerField, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import In, IsNull

from casedesk.accounts.models import Organisation
from casedesk.desks.models import Desk, Team, WorkflowVersion
from casedesk.desks.roles import roles_of
from casedesk.jobs.models import Job

CHANNELS = [
    ("web", "Web"),
    ("api", "API"),
    ("mail", "Mail"),
    ("phone", "Phone"),
    ("system", "System"),
    ("admin", "Admin"),
    ("cli", "Command line"),
]


class _Unindexed(Func):
    """A column SQLite must not pick an index for (`+column`, SQLite's documented way);
    the plain column elsewhere. A staff member's `desk_id IN (...)` on the plain desk
    index makes SQLite read every ticket of those desks and sort them; without it, it
    walks the recency index in page order and stops after the page (bench/pages.py)."""

    template = "%(expressions)s"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra)


def visibility_of(user) -> tuple[str, tuple[int, ...]]:
    """Which rule says what tickets `user` may see, and its values: ("none", ()),
    ("all", ()), ("desks", desk ids), ("organisation", (organisation,)) or ("own",
    (organisation, reporter, contact, follower)). `TicketQuerySet.by_visibility` turns it
    into the filter; `visible_to` is the two together."""
    if user is None or not user.is_authenticated or not user.is_active or user.pk is None:
        return ("none", ())
    if user.is_superuser:
        return ("all", ())
    if user.is_supplier_staff:
        return ("desks", tuple(roles_of(user)))
    if user.organisation_id is None:
        return ("none", ())
    if user.organisation.members_see_all_tickets or user.customer_role == "org_admin":
        return ("organisation", (user.organisation_id,))
    return ("own", (user.organisation_id, user.pk, user.pk, user.pk))


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user) -> TicketQuerySet:
        """The tickets `user` may see; every read for a person goes through here."""
        return self.by_visibility(*visibility_of(user))

    def by_visibility(self, rule: str, values: tuple) -> TicketQuerySet:
        """The tickets a rule of `visibility_of` lets see (each value used once, so a
        prepared read can put its parameters in their place)."""
        if rule == "all":
            return self
        if rule == "desks":
            # Read the desk ids first: as a literal list they give PostgreSQL better plans
            # than a subquery, which it may turn into a loop per desk (bench/lists.py).
            return self.filter(In(_Unindexed(F("desk_id")), list(values)))
        if rule == "organisation":
            return self.filter(organisation_id=values[0])
        if rule == "own":
            organisation, reporter, contact, follower = values
            follows = Participant.objects.filter(ticket_id=models.OuterRef("pk"), user_id=follower)
            return self.filter(organisation_id=organisation).filter(
                Q(reporter_id=reporter) | Q(customer_assignee_id=contact) | Exists(follows)
            )
        return self.none()


class Ticket(models.Model):
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="tickets")
    number = models.PositiveBigIntegerField()
    key = models.CharField(max_length=24, unique=True)
    workflow = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="tickets")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_tickets"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_tickets"
    )
    channel = models.CharField(max_length=10, choices=CHANNELS, default="web")
    type = models.CharField(max_length=60)
    priority = models.CharField(max_length=60)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)

    # Where the ticket is in its workflow; see casedesk.workflow.engine.Snapshot.
    status = models.CharField(max_length=60)
    sub_status = models.CharField(max_length=60, blank=True)
    previous_status = models.CharField(max_length=60, blank=True)
    previous_sub = models.CharField(max_length=60, blank=True)
    # Copied from the workflow on every move so lists can filter on them with an index.
    category = models.CharField(max_length=12)
    turn = models.CharField(max_length=12)
    active = models.BooleanField(default=True)
    flags = models.JSONField(default=list, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    cycle = models.PositiveIntegerField(default=1)
    progress_rank = models.IntegerField(default=0)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    customer_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )

    # Optimistic locking: every change raises it; a write that expected another value loses.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    status_entered_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Written by casedesk.sla in every change's transaction, so queues can sort by what is
    # due first and filter missed and close targets through an index: the earliest due
    # and warning times of the ticket's running clocks, and the earliest missed target.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_breached_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    # Set by the reads that annotate or look it up (lists, webhook payloads), so that
    # `workflow_of` needs no query; absent on other tickets (it is read with getattr).
    workflow_checksum: str

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "number"], name="ticket_number_per_desk")
        ]
        indexes = [
            models.Index(fields=["desk", "-updated_at", "-id"], name="ticket_desk_recent"),
            models.Index(fields=["organisation", "-updated_at", "-id"], name="ticket_org_recent"),
            models.Index(fields=["assignee", "-updated_at", "-id"], name="ticket_assignee_recent"),
            # the "my teams" queue: a team's tickets in sort order, not all of them sorted
            models.Index(fields=["team", "-updated_at", "-id"], name="ticket_team_recent"),
            models.Index(fields=["desk", "status", "-updated_at"], name="ticket_desk_status"),
            models.Index(fields=["desk", "turn", "category"], name="ticket_desk_turn"),
            # the active/inactive filter of the portal, the queues and the API, in sort order
            models.Index(
                fields=["organisation", "active", "-updated_at", "-id"], name="ticket_org_active"
            ),
            models.Index(
                fields=["desk", "active", "-updated_at", "-id"], name="ticket_desk_active"
            ),
            # the customer's "waiting for me": tickets on the customer's turn, by the person
            # whose turn it is (their customer-side assignee, else their reporter), in sort
            # order; tickets/search.py filters by the same expression. The organisation
            # leads because the reader's scope filters by it too, and PostgreSQL, taking
            # the two filters for independent, otherwise combines two indexes and sorts.
            models.Index(
                F("organisation"),
                Coalesce("customer_assignee", "reporter"),
                F("updated_at").desc(),
                F("id").desc(),
                condition=Q(turn="customer"),
                name="ticket_waiting_customer",
            ),
            # a staff member's view spans several desks; these serve it in sort order
            models.Index(fields=["-updated_at", "-id"], name="ticket_recent"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            models.Index(
                fields=["desk", "sla_due_at", "id"],
                condition=Q(sla_due_at__isnull=False),
                name="ticket_desk_sla_due",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(sla_due_at__isnull=False),
                name="ticket_sla_due",
            ),
            # the "target close" list in its order: the first due of the tickets that have a
            # warning mark and no missed target, with the mark beside, so that PostgreSQL
            # checks it in the index as it walks (taking the two times for independent, it
            # expects a few hundredth of the matches there are, and else reads every match
            # through two bitmaps and sorts them)
            models.Index(
                fields=["sla_due_at", "id", "sla_warn_at"],
                condition=Q(sla_warn_at__isnull=False, sla_breached_at=None),
                name="ticket_sla_close",
            ),
            models.Index(
                fields=["desk", "sla_due_at", "id", "sla_warn_at"],
                condition=Q(sla_warn_at__isnull=False, sla_breached_at=None),
                name="ticket_desk_sla_close",
            ),
            # the "target missed" list in its order (tickets/search.py, MISSED_AT)
            models.Index(
                Coalesce("sla_breached_at", "sla_due_at"),
                F("id"),
                condition=Q(IsNull(Coalesce("sla_breached_at", "sla_due_at"), False)),
                name="ticket_sla_missed",
            ),
            models.Index(
                F("desk"),
                Coalesce("sla_breached_at", "sla_due_at"),
                F("id"),
                condition=Q(IsNull(Coalesce("sla_breached_at", "sla_due_at"), False)),
                name="ticket_desk_sla_missed",
            ),
            models.Index(
                fields=["desk", "sla_breached_at"],
                condition=Q(sla_breached_at__isnull=False),
                name="ticket_desk_sla_breached",
            ),
            models.Index(
                fields=["desk", "sla_warn_at"],
                condition=Q(sla_warn_at__isnull=False),
                name="ticket_desk_sla_warn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"


class Comment(models.Model):
    """A public comment, or an internal note that customers never see."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    internal = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, choices=CHANNELS, default="web")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="comment_ticket_time")]

    def __str__(self) -> str:
        return f"{'Note' if self.internal else 'Comment'} on {self.ticket_id}"


class Attachment(models.Model):
    """A file on a ticket. Stored under a generated name; `name` is only for display."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(max_length=200)
    name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    # Attached to an internal note: customers never see it.
    internal = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, choices=CHANNELS, default="web")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="attachment_ticket_time")]

    def __str__(self) -> str:
        return f"{self.name} on {self.ticket_id}"


class TicketLink(models.Model):
    class Kind(models.TextChoices):
        DUPLICATE_OF = "duplicate_of", "is a duplicate of"
        RELATES_TO = "relates_to", "relates to"

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="one_link_per_kind"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="no_self_link"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class Participant(models.Model):
    """Someone following a ticket besides its reporter and assignees."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="participants")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="one_participation")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.ticket_id}"


class AppendOnlyError(ValueError):
    """A write that would change or remove a row of an append-only table. It is a bug in
    the caller, not a person's mistake, so it carries no sentence for people."""

    code = "append_only"

    def __init__(self, model: str, operation: str):
        super().__init__(f"{model} rows are append-only: {operation} refused")
        self.model = model
        self.operation = operation


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes that would change or remove rows are refused; `bulk_update` and
    `update_or_create` on an existing row end here or in `save()` too."""

    def update(self, **kwargs):
        raise AppendOnlyError(self.model.__name__, "update")

    def delete(self):
        raise AppendOnlyError(self.model.__name__, "delete")


class AppendOnly(models.Model):
    """Rows that are written once and never changed or removed. On PostgreSQL a trigger
    refuses UPDATE and DELETE on the table as well (migration 0006), so raw SQL and other
    clients cannot do it either. The ticket a row belongs to is PROTECTed by it."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(type(self).__name__, "save of a stored row")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(type(self).__name__, "delete")


class TicketEvent(AppendOnly):
    """One change to a ticket: who, when, what, through which channel. A ticket with
    history cannot be deleted: its history would go with it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(max_length=10)  # customer | staff | system
    channel = models.CharField(max_length=10, choices=CHANNELS)
    kind = models.CharField(max_length=30)
    # Whether customers see this entry in the history (internal notes and staff-only
    # fields are not shown to them).
    public = models.BooleanField(default=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at", "id"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"


class OutboxItem(Job):
    """A history entry a consumer (mail, webhooks) has yet to react to; see outbox.py."""

    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    consumer = models.CharField(max_length=40)
    # Due from the entry's own time; pushed on by a lease or a failed try; none when held.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["consumer", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.consumer}: event {self.event_id}"


class TicketTimer(Job):
    """The next automatic move of a ticket. One row per ticket at most; set again on every
    change to the ticket, so the due time always matches the ticket's current state.
    """

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="timer"
    )
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    timer = models.CharField(max_length=60)
    transition = models.CharField(max_length=60)
    due_at = models.DateTimeField(db_index=True)
    ticket_version = models.PositiveIntegerField()
    # When to warn the people concerned before the timer acts (the timer's `warn_before`),
    # and when that warning was written, so it is written once per timer and due time.
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]

    def __str__(self) -> str:
        return f"{self.timer} on {self.ticket_id} at {self.due_at:%Y-%m-%d %H:%M}"
