"""Reads for a person: every one is scoped by `Ticket.objects.visible_to`, and a ticket the
person may not see is NotFound, exactly like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q

from casedesk.accounts.models import User
from casedesk.common import clock
from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk, Team
from casedesk.workflow import Actor, NextStep, Snapshot, next_step
from casedesk.workflow.nextstep import viewer_turn

from .bridge import actor_for, snapshot, workflow_of
from .models import Attachment, Comment, Participant, Ticket, TicketEvent, TicketLink
from .permissions import ensure_desk_visible
from .search import Page, TicketFilters, apply_filters, page


def _may_read(user) -> bool:
    """Whether this is a signed-in, active person at all. An anonymous user or an unsaved
    one has no id, so no id may ever stand for "already checked" for them."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and user.pk is not None
    )


def _mark_visible(user, ticket: Ticket) -> None:
    """Remember that `ticket` was read through `visible_to(user)`."""
    ticket.__dict__["_visible_to_user"] = user.pk


def ticket_get_for_actor(*, user, key: str) -> Ticket:
    ticket = (
        Ticket.objects.visible_to(user)
        .select_related(
            "desk", "workflow", "organisation", "reporter", "assignee", "customer_assignee", "team"
        )
        .filter(key=str(key).strip().upper())
        .first()
    )
    if ticket is None:
        raise NotFound("ticket.not_found")
    _mark_visible(user, ticket)
    return ticket


def _ensure_visible(user, ticket: Ticket) -> None:
    """Reads below take a ticket object; make sure this person may see it. A ticket just
    read by `ticket_get_for_actor` for the same person needs no second query."""
    if not _may_read(user):
        raise NotFound("ticket.not_found")
    if ticket.__dict__.get("_visible_to_user") == user.pk:
        return
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise NotFound("ticket.not_found")


def ticket_ensure_visible(*, user, ticket: Ticket) -> None:
    """Raise NotFound unless `user` may see `ticket` (no query for a ticket just read for
    them by `ticket_get_for_actor`); for reads of state kept beside a ticket."""
    _ensure_visible(user, ticket)


RELATED = ("reporter", "customer_assignee", "team")


def ticket_page_for_actor(
    *,
    user,
    filters: TicketFilters | None = None,
    cursor: str | None = None,
    limit: int = 50,
    related: tuple[str, ...] = RELATED,
) -> Page:
    """One keyset page of the tickets this person may see, filtered.

    At most five statements whatever the page holds: a staff member's desks, the tickets
    with their desk, organisation and assignee, then the reporters, customer-side
    assignees and teams (each only if any row has one). More joins in one statement cost
    more to plan than to run on PostgreSQL (bench/lists.py). A page that shows fewer of
    them names those in `related` (the others are read one by one if touched)."""
    filters = filters or TicketFilters()
    rows = (
        apply_filters(Ticket.objects.visible_to(user), filters, user)
        .annotate(workflow_checksum=F("workflow__checksum"))
        .select_related("desk", "organisation", "assignee")
        .prefetch_related(*(r for r in related if r in RELATED))
    )
    found = page(rows, sort=filters.sort, cursor=cursor, limit=limit)
    if _may_read(user):
        for ticket in found.tickets:  # read through visible_to: no second check needed
            _mark_visible(user, ticket)
    return found


# The columns a list row shows or needs (the whose-turn check, the page's cursor), with the
# names of its desk's zone, its organisation and its people joined in the same statement.
ROW_FIELDS = (
    "pk",
    "key",
    "title",
    "status",
    "sub_status",
    "type",
    "priority",
    "category",
    "turn",
    "active",
    "version",
    "created_at",
    "updated_at",
    "sla_due_at",
    "status_entered_at",
    "last_activity_at",
    "reporter_id",
    "assignee_id",
    "customer_assignee_id",
)
ROW_JOINS = {
    "workflow_checksum": "workflow__checksum",
    "desk_time_zone": "desk__time_zone",
    "organisation_name": "organisation__name",
    "assignee_first_name": "assignee__first_name",
    "assignee_last_name": "assignee__last_name",
    "assignee_username": "assignee__username",
}
REPORTER_JOINS = {
    "reporter_first_name": "reporter__first_name",
    "reporter_last_name": "reporter__last_name",
    "reporter_username": "reporter__username",
}


def ticket_rows_for_actor(
    *,
    user,
    filters: TicketFilters | None = None,
    cursor: str | None = None,
    limit: int = 50,
    reporter: bool = False,
) -> Page:
    """One keyset page as `ticket_page_for_actor` reads it (the same visibility, filters
    and order), but as plain rows of the columns a list shows (ROW_FIELDS, ROW_JOINS and,
    with `reporter`, REPORTER_JOINS), in one statement after the staff member's desks:
    no model instances are built, and the names come from joins instead of reads of
    their own. Each row has those names as attributes (`workflow_of` and `turn_is_mine`
    take one in place of a ticket)."""
    filters = filters or TicketFilters()
    joins = {**ROW_JOINS, **(REPORTER_JOINS if reporter else {})}
    rows = (
        apply_filters(Ticket.objects.visible_to(user), filters, user)
        .annotate(**{name: F(path) for name, path in joins.items()})
        .values_list(*ROW_FIELDS, *joins, named=True)
    )
    return page(rows, sort=filters.sort, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    status_label: str


def ticket_list_for_actor(*, user, limit: int = 50, lang: str = "en") -> list[TicketRow]:
    found = ticket_page_for_actor(user=user, limit=limit).tickets
    return [TicketRow(t, workflow_of(t).place_label(t.status, t.sub_status, lang)) for t in found]


def next_step_for(*, user, ticket: Ticket, lang: str) -> NextStep:
    """What this person sees as the ticket's status, their possible moves and what is next."""
    _ensure_visible(user, ticket)
    return next_step(
        workflow_of(ticket), snapshot(ticket), actor_for(user, ticket.desk), lang, clock.now()
    )


def turn_is_mine(*, user, ticket: Ticket) -> bool:
    """Is it this customer's own turn on `ticket` (for lists: no query per row)?"""
    if not _may_read(user) or user.is_supplier_staff:
        return False
    snap = Snapshot(
        status=ticket.status,
        sub_status=ticket.sub_status,
        type=ticket.type,
        priority=ticket.priority,
        entered_at=ticket.status_entered_at,
        last_activity_at=ticket.last_activity_at,
        reporter_id=ticket.reporter_id,
        customer_assignee_id=ticket.customer_assignee_id,
    )
    return viewer_turn(workflow_of(ticket), snap, Actor("customer", user.customer_role, user.pk))


def comments_for(*, user, ticket: Ticket) -> list[Comment]:
    _ensure_visible(user, ticket)
    rows = Comment.objects.filter(ticket=ticket).select_related("author")
    if not user.is_supplier_staff:
        rows = rows.filter(internal=False)
    return list(rows)


def history_for(*, user, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's history; customers see public entries only, and in those no values of
    fields the workflow keeps from them (a transition may stamp a staff-only field)."""
    _ensure_visible(user, ticket)
    rows = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if user.is_supplier_staff:
        return list(rows)
    events = list(rows.filter(public=True))
    names = field_names_for(user=user, wf=workflow_of(ticket))
    for event in events:
        changed = event.data.get("fields")
        if isinstance(changed, dict):
            shown = {k: v for k, v in changed.items() if k in names}
            event.data = (
                {**event.data, "fields": shown}
                if shown
                else {k: v for k, v in event.data.items() if k != "fields"}
            )
    return events


def field_names_for(*, user, wf) -> set[str]:
    """The custom fields of a workflow this person may see: staff all, customers those the
    workflow shows them (`customer_visible`)."""
    if not _may_read(user):
        return set()
    if user.is_supplier_staff:
        return set(wf.fields)
    return {k for k, f in wf.fields.items() if f.customer_visible}


def fields_for(*, user, ticket: Ticket) -> dict:
    """The ticket's custom fields this person may see: staff all of them, customers those
    the workflow shows them (`customer_visible`)."""
    _ensure_visible(user, ticket)
    if user.is_supplier_staff:
        return dict(ticket.fields)
    names = field_names_for(user=user, wf=workflow_of(ticket))
    return {k: v for k, v in ticket.fields.items() if k in names}


def attachments_for(*, user, ticket: Ticket) -> list[Attachment]:
    """The ticket's files; customers never see those attached to internal notes."""
    _ensure_visible(user, ticket)
    rows = Attachment.objects.filter(ticket=ticket)
    if not user.is_supplier_staff:
        rows = rows.filter(internal=False)
    return list(rows)


def participants_for(*, user, ticket: Ticket) -> list[Participant]:
    _ensure_visible(user, ticket)
    return list(Participant.objects.filter(ticket=ticket).select_related("user"))


@dataclass(frozen=True)
class LinkView:
    kind: str  # relates_to | duplicate_of
    outgoing: bool  # True: this ticket -> other ("is a duplicate of"), False: other -> this
    other: Ticket
    created_at: object

    @property
    def reads_as(self) -> str:
        """The link as this ticket's page says it: relates_to, duplicate_of (this ticket is
        the duplicate) or duplicate_added (the other one is a duplicate of this one)."""
        if self.kind == "duplicate_of" and not self.outgoing:
            return "duplicate_added"
        return self.kind


def links_for(*, user, ticket: Ticket) -> list[LinkView]:
    """The ticket's links to tickets this person may also see; the others are left out,
    so a link never reveals a ticket of another organisation or desk."""
    _ensure_visible(user, ticket)
    # One statement on this ticket's links only (the source and target indexes); each
    # other end is checked by key, not by reading every ticket the person may see.
    visible = Ticket.objects.visible_to(user)
    rows = TicketLink.objects.filter(
        Q(Q(source=ticket) & Exists(visible.filter(pk=OuterRef("target_id"))))
        | Q(Q(target=ticket) & Exists(visible.filter(pk=OuterRef("source_id"))))
    ).select_related("source", "target")
    views = [
        LinkView(x.kind, True, x.target, x.created_at)
        if x.source_id == ticket.pk
        else LinkView(x.kind, False, x.source, x.created_at)
        for x in rows
    ]
    return sorted(views, key=lambda v: (v.created_at, v.other.pk))


def desk_for_user(*, user, desk_id: int) -> Desk:
    desk = Desk.objects.filter(pk=desk_id).select_related("workflow").first()
    if desk is None:
        raise NotFound("desk.not_found")
    ensure_desk_visible(user, desk)
    return desk


def desks_for_user(*, user):
    if not _may_read(user):
        return Desk.objects.none()
    if user.is_superuser:
        return Desk.objects.all()
    if user.is_supplier_staff:
        return Desk.objects.filter(staff__user=user)
    return Desk.objects.filter(organisations=user.organisation_id)


def people_named_in(*, user, ticket: Ticket, ids) -> dict:
    """The people a ticket's history names, by id, for showing their names."""
    _ensure_visible(user, ticket)
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


def _ensure_desk_staff(user, desk: Desk) -> None:
    if not (_may_read(user) and user.is_supplier_staff):
        raise NotFound("desk.not_found")
    ensure_desk_visible(user, desk)


def desk_staff_for(*, user, desk: Desk) -> list:
    """Staff who may be given tickets of this desk (for staff of the desk only)."""
    _ensure_desk_staff(user, desk)
    return list(
        User.objects.filter(desk_memberships__desk=desk, is_active=True, kind="staff").order_by(
            "first_name", "last_name", "username"
        )
    )


def desk_teams_for(*, user, desk: Desk) -> list[Team]:
    _ensure_desk_staff(user, desk)
    return list(Team.objects.filter(desk=desk))


def organisation_people_for(*, user, ticket: Ticket) -> list:
    """The active people of the ticket's organisation: who can be its customer-side contact."""
    _ensure_visible(user, ticket)
    return list(
        User.objects.filter(
            organisation_id=ticket.organisation_id, is_active=True, kind="customer"
        ).order_by("first_name", "last_name", "username")
    )


def customers_for_desk(*, user, desk: Desk, text: str = "", limit: int = 50) -> list:
    """Customers of the organisations that use a desk, matching a name or address (staff
    registering a ticket for someone who phoned)."""
    _ensure_desk_staff(user, desk)
    rows = User.objects.filter(
        kind="customer", is_active=True, organisation__desks=desk
    ).select_related("organisation")
    text = (text or "").strip()
    if text:
        rows = rows.filter(
            Q(username__icontains=text)
            | Q(email__iexact=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
        )
    return list(rows.order_by("organisation__name", "username")[:limit])


def customer_for_desk(*, user, desk: Desk, username: str):
    """One customer of the desk by exact user name or e-mail address, or NotFound."""
    _ensure_desk_staff(user, desk)
    text = (username or "").strip()
    found = list(
        User.objects.filter(kind="customer", is_active=True, organisation__desks=desk)
        .filter(Q(username__iexact=text) | Q(email__iexact=text))
        .select_related("organisation")[:2]
    )
    if len(found) != 1 or not text:
        raise NotFound("customer.not_found")
    return found[0]


def team_ids_of(*, user) -> tuple[int, ...]:
    """The teams a staff member belongs to (for their "my teams" queue)."""
    if not (_may_read(user) and user.is_supplier_staff):
        return ()
    return tuple(Team.objects.filter(members=user).values_list("pk", flat=True))
