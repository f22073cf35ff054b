"""Reads for a person: every one is scoped by `Ticket.objects.visible_to`, and a ticket the
person may not see is NotFound, exactly like one that does not exist."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import cast

from django.db import router
from django.db.models import Exists, F, ForeignKey, OuterRef, Q, Subquery
from django.utils.functional import SimpleLazyObject, empty

from casedesk.accounts.models import Organisation, User
from casedesk.common import clock
from casedesk.common.errors import NotFound
from casedesk.common.rows import Prepared, one
from casedesk.desks.models import Desk, Team, WorkflowVersion
from casedesk.workflow import Actor, NextStep, Snapshot, next_step
from casedesk.workflow.nextstep import viewer_turn

from .bridge import actor_for, snapshot, workflow_of
from .models import (
    Attachment,
    Comment,
    Participant,
    Ticket,
    TicketEvent,
    TicketLink,
    visibility_of,
)
from .permissions import ensure_desk_visible
from .search import SORTS, Page, TicketFilters, apply_filters, page


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


# The ticket's people are not joined here but read by key beside it (`attach_people`):
# PostgreSQL's planning time grows steeply with the tables of one statement; with the
# three people joined too (eight tables) planning the read took 8-13 ms at 1,000,000
# tickets for an execution of 0.2 ms, with these five under 0.5 ms.
_PAGE_RELATED = ("desk", "workflow", "organisation", "team")
PEOPLE = ("reporter", "assignee", "customer_assignee")
# The read of one ticket by its key, for each visibility rule and number of its values:
# built by the ORM once (common.rows.Prepared) rather than at each ticket page. A staff
# member on more desks than a prepared read takes parameters is read through the ORM.
_by_key: dict[tuple[str, int], Prepared] = {}
_MOST_PARAMETERS = 24  # as many as common.rows.Prepared has stand-ins for


def _prepared_by_key(rule: str, count: int) -> Prepared:
    found = _by_key.get((rule, count))
    if found is None:
        found = _by_key[(rule, count)] = Prepared(
            lambda key, *values: (
                Ticket.objects.by_visibility(rule, values)
                .select_related(*_PAGE_RELATED)
                .filter(key=key)
                .order_by()[:1]
            ),  # the key is unique: nothing to order
            arity=1 + count,
        )
    return found


def ticket_get_for_actor(*, user, key: str, people: bool = True) -> Ticket:
    """The ticket with its desk, workflow, organisation and team, and with its people
    unless `people` is false (a caller that reads people anyway then hands them to
    `attach_people`, so no statement is spent on them alone)."""
    key = str(key).strip().upper()
    rule, values = visibility_of(user)
    if rule == "none" or (rule == "desks" and not values):
        ticket = None
    elif 1 + len(values) <= _MOST_PARAMETERS:
        ticket = _prepared_by_key(rule, len(values)).one(
            key, *values, using=router.db_for_read(Ticket)
        )
    else:
        ticket = one(
            Ticket.objects.by_visibility(rule, values)
            .select_related(*_PAGE_RELATED)
            .filter(key=key)
        )
    if ticket is None:
        raise NotFound("ticket.not_found")
    _mark_visible(user, ticket)
    if people:
        attach_people(user=user, ticket=ticket, known={})
    return ticket


def _person_field(name: str) -> ForeignKey:
    return cast(ForeignKey, Ticket._meta.get_field(name))


def people_missing(ticket: Ticket) -> set[int]:
    """The ids of the ticket's people not yet read with it."""
    return {
        getattr(ticket, f"{name}_id")
        for name in PEOPLE
        if getattr(ticket, f"{name}_id") is not None and not _person_field(name).is_cached(ticket)
    }


def attach_people(*, user, ticket: Ticket, known: dict) -> None:
    """Give the ticket its people from `known` (by id) and the reader, reading the rest in
    one statement by key; the reader is often one of them (the customer who reported it,
    the agent it is assigned to). Only for a ticket this person may see."""
    _ensure_visible(user, ticket)
    known, reader = dict(known), user
    if isinstance(reader, SimpleLazyObject):  # request.user: the User it stands for
        reader = None if reader._wrapped is empty else reader._wrapped
    if isinstance(reader, User) and reader.pk is not None:
        known.setdefault(reader.pk, reader)
    missing = people_missing(ticket)
    if missing - known.keys():
        known.update((u.pk, u) for u in User.objects.filter(pk__in=missing - known.keys()))
    for name in PEOPLE:
        person = known.get(getattr(ticket, f"{name}_id"))
        field = _person_field(name)
        if person is not None and not field.is_cached(ticket):
            field.set_cached_value(ticket, person)


def _ensure_visible(user, ticket: Ticket) -> None:
    """Reads below take a ticket object; make sure this person may see it. A ticket just
    read by `ticket_get_for_actor` for the same person needs no second query."""
    if not _may_read(user):
        raise NotFound("ticket.not_found")
    if ticket.__dict__.get("_visible_to_user") == user.pk:
        return
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise NotFound("ticket.not_found")


def tickets_visible_to(*, user, tickets: list[Ticket]) -> dict[int, Ticket]:
    """Which of `tickets` this person may see, in one query: by id, a copy of each such
    ticket marked as checked for them (so the reads below make no second query). A copy,
    because the same ticket object may be checked for several people in turn."""
    if not _may_read(user) or not tickets:
        return {}
    ids = {t.pk for t in tickets}
    seen = set(Ticket.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    found: dict[int, Ticket] = {}
    for ticket in tickets:
        if ticket.pk in seen and ticket.pk not in found:
            mine = copy.copy(ticket)
            _mark_visible(user, mine)
            found[ticket.pk] = mine
    return found


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


def _looked_up(model, column: str, key: str) -> Subquery:
    """`column` of the `model` row that the ticket's `key` points to, as a subquery of the
    list's statement rather than a join: PostgreSQL searched the join orders of a
    six-table statement for 1-2 ms to run it in 0.2 (bench/README.md); a subquery by key
    is planned on its own, in microseconds, and run once per row of the page."""
    return Subquery(model.objects.filter(pk=OuterRef(key)).order_by().values(column)[:1])


def _row_lookups() -> dict[str, Subquery | F]:
    return {
        "workflow_checksum": _looked_up(WorkflowVersion, "checksum", "workflow_id"),
        "desk_time_zone": _looked_up(Desk, "time_zone", "desk_id"),
        "organisation_name": _looked_up(Organisation, "name", "organisation_id"),
        "assignee_first_name": F("assignee__first_name"),
        "assignee_last_name": F("assignee__last_name"),
        "assignee_username": F("assignee__username"),
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
    and order), but as plain rows of the columns a list shows (ROW_FIELDS, `_row_lookups`
    and, with `reporter`, REPORTER_JOINS), in one statement after the staff member's desks:
    no model instances are built, and the names come from joins instead of reads of
    their own. Each row has those names as attributes (`workflow_of` and `turn_is_mine`
    take one in place of a ticket)."""
    filters = filters or TicketFilters()
    joins = {
        **_row_lookups(),
        **({name: F(path) for name, path in REPORTER_JOINS.items()} if reporter else {}),
    }
    rows = apply_filters(Ticket.objects.visible_to(user), filters, user).annotate(**joins)
    by = SORTS[filters.sort][0]  # the sort key, for the cursor (an annotation for some)
    extra = () if by in ROW_FIELDS else (by,)
    rows = rows.values_list(*ROW_FIELDS, *joins, *extra, named=True)
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


# The ticket page's reads of what hangs off one ticket have the same shape for every
# ticket: built by the ORM once (common.rows.Prepared), not at each view. Each is read
# only after `_ensure_visible` said the person may see the ticket.
def _read(prepared: Prepared, *args) -> list:
    return prepared(*args, using=router.db_for_read(prepared.model))


_comments = Prepared(lambda t: Comment.objects.filter(ticket_id=t).select_related("author"))
_public_comments = Prepared(
    lambda t: Comment.objects.filter(ticket_id=t, internal=False).select_related("author")
)


# without the author: for a page that reads the people it names itself
_bare_comments = Prepared(lambda t: Comment.objects.filter(ticket_id=t))
_bare_public_comments = Prepared(lambda t: Comment.objects.filter(ticket_id=t, internal=False))


def comments_for(*, user, ticket: Ticket, authors: bool = True) -> list[Comment]:
    """The ticket's conversation; customers never see internal notes. `authors=False`
    leaves each comment's author unread (only `author_id`), as `history_for`'s actors."""
    _ensure_visible(user, ticket)
    if user.is_supplier_staff:
        return _read(_comments if authors else _bare_comments, ticket.pk)
    return _read(_public_comments if authors else _bare_public_comments, ticket.pk)


_events = Prepared(lambda t: TicketEvent.objects.filter(ticket_id=t).select_related("actor"))
_public_events = Prepared(
    lambda t: TicketEvent.objects.filter(ticket_id=t, public=True).select_related("actor")
)
# without the actor: for a page that reads the people its history names anyway
_bare_events = Prepared(lambda t: TicketEvent.objects.filter(ticket_id=t))
_bare_public_events = Prepared(lambda t: TicketEvent.objects.filter(ticket_id=t, public=True))


def history_for(*, user, ticket: Ticket, actors: bool = True) -> list[TicketEvent]:
    """The ticket's history; customers see public entries only, and in those no values of
    fields the workflow keeps from them (a transition may stamp a staff-only field).
    `actors=False` leaves each entry's actor unread (only `actor_id`): for a caller that
    reads the people the history names itself (`people_named_in`)."""
    _ensure_visible(user, ticket)
    if user.is_supplier_staff:
        return _read(_events if actors else _bare_events, ticket.pk)
    events = _read(_public_events if actors else _bare_public_events, ticket.pk)
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


_files = Prepared(lambda t: Attachment.objects.filter(ticket_id=t))
_public_files = Prepared(lambda t: Attachment.objects.filter(ticket_id=t, internal=False))


def attachments_for(*, user, ticket: Ticket) -> list[Attachment]:
    """The ticket's files; customers never see those attached to internal notes."""
    _ensure_visible(user, ticket)
    return _read(_files if user.is_supplier_staff else _public_files, ticket.pk)


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


def _links_of(source: int, target: int, rule: str, values: tuple, other_values: tuple):
    """The links from `source` or to `target` (one ticket, named twice) whose other end
    the rule lets see: one statement on this ticket's links only (the source and target
    indexes), each other end checked by key, not by reading every ticket the person may
    see. The rule's values are given once for each direction."""
    return TicketLink.objects.filter(
        Q(
            Q(source_id=source)
            & Exists(Ticket.objects.by_visibility(rule, values).filter(pk=OuterRef("target_id")))
        )
        | Q(
            Q(target_id=target)
            & Exists(
                Ticket.objects.by_visibility(rule, other_values).filter(pk=OuterRef("source_id"))
            )
        )
    ).select_related("source", "target")


# per visibility rule and number of its values, as `_by_key` (the rule's values are used
# once in each direction, so they are passed twice)
_links_by_rule: dict[tuple[str, int], Prepared] = {}


def _prepared_links(rule: str, count: int) -> Prepared:
    found = _links_by_rule.get((rule, count))
    if found is None:
        found = _links_by_rule[(rule, count)] = Prepared(
            lambda source, target, *values: _links_of(
                source, target, rule, values[:count], values[count:]
            ),
            arity=2 + 2 * count,
        )
    return found


def links_for(*, user, ticket: Ticket) -> list[LinkView]:
    """The ticket's links to tickets this person may also see; the others are left out,
    so a link never reveals a ticket of another organisation or desk."""
    _ensure_visible(user, ticket)
    rule, values = visibility_of(user)
    if rule == "none" or (rule == "desks" and not values):
        return []
    if 2 + 2 * len(values) <= _MOST_PARAMETERS:
        rows = _read(_prepared_links(rule, len(values)), ticket.pk, ticket.pk, *values, *values)
    else:
        rows = _links_of(ticket.pk, ticket.pk, rule, values, values)
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
    """The people a ticket's page names (in its history, as its comments' authors), by
    id, for showing their names."""
    _ensure_visible(user, ticket)
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


def _ensure_desk_staff(user, desk: Desk) -> None:
    if not (_may_read(user) and user.is_supplier_staff):
        raise NotFound("desk.not_found")
    ensure_desk_visible(user, desk)


_desk_staff = Prepared(
    lambda d: User.objects.filter(
        desk_memberships__desk_id=d, is_active=True, kind="staff"
    ).order_by("first_name", "last_name", "username")
)
_desk_teams = Prepared(lambda d: Team.objects.filter(desk_id=d))
_organisation_people = Prepared(
    lambda o: User.objects.filter(organisation_id=o, is_active=True, kind="customer").order_by(
        "first_name", "last_name", "username"
    )
)


def desk_staff_for(*, user, desk: Desk) -> list:
    """Staff who may be given tickets of this desk (for staff of the desk only)."""
    _ensure_desk_staff(user, desk)
    return _read(_desk_staff, desk.pk)


def desk_teams_for(*, user, desk: Desk) -> list[Team]:
    _ensure_desk_staff(user, desk)
    return _read(_desk_teams, desk.pk)


def organisation_people_for(*, user, ticket: Ticket) -> list:
    """The active people of the ticket's organisation: who can be its customer-side contact."""
    _ensure_visible(user, ticket)
    return _read(_organisation_people, ticket.organisation_id)


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
