"""Reads for a person: every one is scoped by `Ticket.objects.visible_to`, and a ticket the
person may not see is NotFound, exactly like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from casedesk.common import clock
from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk
from casedesk.workflow import NextStep, next_step

from .bridge import actor_for, snapshot, workflow_of
from .models import Attachment, Comment, Participant, Ticket, TicketEvent, TicketLink
from .permissions import ensure_desk_visible
from .search import Page, TicketFilters, apply_filters, page


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
        raise NotFound("no such ticket")
    ticket._checked_for = user.pk
    return ticket


def _ensure_visible(user, ticket: Ticket) -> None:
    """Reads below take a ticket object; make sure this person may see it. A ticket just
    read by `ticket_get_for_actor` for the same person needs no second query."""
    if getattr(ticket, "_checked_for", None) == getattr(user, "pk", False):
        return
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise NotFound("no such ticket")


def ticket_page_for_actor(
    *, user, filters: TicketFilters | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """One keyset page of the tickets this person may see, filtered.

    At most five statements whatever the page holds: a staff member's desks, the tickets
    with their desk, organisation and assignee, then the reporters, customer-side
    assignees and teams (each only if any row has one). More joins in one statement cost
    more to plan than to run on PostgreSQL (bench/lists.py)."""
    filters = filters or TicketFilters()
    rows = (
        apply_filters(Ticket.objects.visible_to(user), filters, user)
        .annotate(workflow_checksum=F("workflow__checksum"))
        .select_related("desk", "organisation", "assignee")
        .prefetch_related("reporter", "customer_assignee", "team")
    )
    found = page(rows, sort=filters.sort, cursor=cursor, limit=limit)
    for ticket in found.tickets:  # read through visible_to: no second check needed
        ticket._checked_for = user.pk
    return found


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


def links_for(*, user, ticket: Ticket) -> list[LinkView]:
    """The ticket's links to tickets this person may also see; the others are left out,
    so a link never reveals a ticket of another organisation or desk."""
    _ensure_visible(user, ticket)
    visible = Ticket.objects.visible_to(user)
    out = TicketLink.objects.filter(source=ticket, target__in=visible).select_related("target")
    back = TicketLink.objects.filter(target=ticket, source__in=visible).select_related("source")
    views = [LinkView(x.kind, True, x.target, x.created_at) for x in out]
    views += [LinkView(x.kind, False, x.source, x.created_at) for x in back]
    return sorted(views, key=lambda v: (v.created_at, v.other.pk))


def desk_for_user(*, user, desk_id: int) -> Desk:
    desk = Desk.objects.filter(pk=desk_id).select_related("workflow").first()
    if desk is None:
        raise NotFound("no such desk")
    ensure_desk_visible(user, desk)
    return desk


def desks_for_user(*, user):
    if user.is_superuser:
        return Desk.objects.all()
    if user.is_supplier_staff:
        return Desk.objects.filter(staff__user=user)
    return Desk.objects.filter(organisations=user.organisation_id)
