"""Tickets: lists with filters and keyset pages, creation, reading, and changes to fields,
assignees and team, each with optimistic concurrency (If-Match or `version`)."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status
from pydantic import Field, StringConstraints

from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.desks.models import Team
from casedesk.desks.selectors import person_get_for_actor
from casedesk.tickets import selectors, services
from casedesk.tickets.search import MAX_PAGE, TicketFilters

from ..context import expected_version, lang_of, with_etag
from ..errors import ERROR_STATUSES, Error
from ..schemas import (
    FieldValue,
    Id,
    In,
    IsoDateTime,
    QueryIn,
    TicketOut,
    TicketPage,
    Version,
    ticket_out,
    ticket_summary,
)

router = Router(tags=["tickets"])
Key = Annotated[str, StringConstraints(max_length=24)]
KeyPath = Annotated[str, Path(..., max_length=24, example="GEN-1", description="a ticket key")]
Category = Literal["new", "open", "waiting", "resolved", "closed", "cancelled"]
Turn = Literal["supplier", "customer", "third_party", "nobody"]
PersonFilter = Annotated[
    str,
    StringConstraints(pattern=r"^(me|none|[1-9][0-9]{0,15})$"),
    Field(description="a person id, `me` or `none`"),
]


class TicketQuery(QueryIn):
    desk: Id | None = None
    organisation: Id | None = None
    status: Annotated[str, StringConstraints(max_length=60)] | None = None
    category: list[Category] = Field(default_factory=list)
    turn: Turn | None = None
    open: bool | None = Field(None, description="true: not closed or cancelled")
    active: bool | None = Field(
        None, description="true: in an active status (the desk has work to do); false: inactive"
    )
    assignee: PersonFilter | None = None
    customer_assignee: PersonFilter | None = None
    reporter: PersonFilter | None = None
    team: Id | None = None
    waiting_for_me: bool = Field(False, description="whose turn it is: yours")
    q: Annotated[str, StringConstraints(max_length=200)] = Field("", description="keywords")
    updated_since: IsoDateTime | None = None
    sla: Literal["breached", "at_risk"] | None = Field(
        None, description="breached: a service level target missed; at_risk: close to one"
    )
    sort: Literal["-updated", "updated", "-created", "created", "due", "missed"] = Field(
        "-updated",
        description=(
            "due: tickets with a running SLA clock, the first due first; missed: tickets with"
            " a missed target, the one missed longest ago first, then the running ones, the"
            " first due first. sla=at_risk with sort=due and sla=breached with sort=missed"
            " are read in index order, at the same cost at any number of tickets"
        ),
    )
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class TicketIn(In):
    desk: Id
    title: Annotated[str, StringConstraints(max_length=300)]
    description: Annotated[str, StringConstraints(max_length=100_000)] = ""
    type: Annotated[str, StringConstraints(max_length=60)] | None = None
    priority: Annotated[str, StringConstraints(max_length=60)] | None = None
    reporter: Id | None = Field(None, description="staff: the customer it is for")
    fields: dict[Annotated[str, StringConstraints(max_length=60)], FieldValue] = Field(
        default_factory=dict, max_length=50
    )


class TicketPatch(In):
    title: Annotated[str, StringConstraints(max_length=300)] | None = None
    priority: Annotated[str, StringConstraints(max_length=60)] | None = None
    type: Annotated[str, StringConstraints(max_length=60)] | None = None
    fields: dict[Annotated[str, StringConstraints(max_length=60)], FieldValue] | None = Field(
        None, max_length=50
    )
    version: Version | None = None


class PersonIn(In):
    person: Id | None = Field(description="a person id, or null for nobody")
    version: Version | None = None


class TeamIn(In):
    team: Annotated[str, StringConstraints(max_length=80)] | None = Field(
        description="a team's slug, or null for none"
    )
    version: Version | None = None


def errors(*statuses: int) -> dict:
    return {s: Error for s in (statuses or ERROR_STATUSES)}


def person_for(request: HttpRequest, person_id: int | None, field: str):
    """Someone the caller may see, for a field of the request; otherwise a field error
    that reads the same whether the person exists or not."""
    if person_id is None:
        return None
    try:
        return person_get_for_actor(user=request.user, person_id=person_id)
    except NotFound:
        raise InvalidInput({field: Problem("ticket.person.unknown")}) from None


def read(request: HttpRequest, response: HttpResponse, key: str) -> dict:
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    lang = lang_of(request)
    step = selectors.next_step_for(user=request.user, ticket=ticket, lang=lang)
    fields = selectors.fields_for(user=request.user, ticket=ticket)
    with_etag(response, ticket.version)
    return ticket_out(
        ticket, fields, step, lang, customer=not getattr(request.user, "is_supplier_staff", False)
    )


@router.get("/tickets", response={200: TicketPage, **errors()}, summary="List tickets")
def ticket_list(request: HttpRequest, filters: Query[TicketQuery]):
    """The tickets you may see, newest change first by default; keyset pages of at most
    100: pass `next_cursor` back as `cursor`."""
    f = TicketFilters(
        desk=filters.desk,
        organisation=filters.organisation,
        status=filters.status,
        categories=tuple(filters.category),
        turn=filters.turn,
        open=filters.open,
        active=filters.active,
        assignee=filters.assignee,
        customer_assignee=filters.customer_assignee,
        reporter=filters.reporter,
        team=filters.team,
        waiting_for_me=filters.waiting_for_me,
        text=filters.q,
        updated_since=filters.updated_since,
        sla=filters.sla,
        sort=filters.sort,
    )
    found = selectors.ticket_page_for_actor(
        user=request.user, filters=f, cursor=filters.cursor, limit=filters.limit
    )
    lang = lang_of(request)
    items = [
        ticket_summary(
            t,
            selectors.fields_for(user=request.user, ticket=t),
            lang,
            customer=not getattr(request.user, "is_supplier_staff", False),
        )
        for t in found.tickets
    ]
    return {"items": items, "next_cursor": found.next_cursor}


@router.post("/tickets", response={201: TicketOut, **errors()}, summary="Open a ticket")
def ticket_create(request: HttpRequest, response: HttpResponse, payload: TicketIn):
    desk = selectors.desk_for_user(user=request.user, desk_id=payload.desk)
    ticket = services.ticket_create(
        actor=request.user,
        desk=desk,
        title=payload.title,
        description=payload.description,
        type=payload.type,
        priority=payload.priority,
        reporter=person_for(request, payload.reporter, "reporter"),
        fields=payload.fields,
        channel="api",
    )
    response["Location"] = f"/api/v1/tickets/{ticket.key}"
    return Status(201, read(request, response, ticket.key))


@router.get("/tickets/{key}", response={200: TicketOut, **errors()}, summary="Read a ticket")
def ticket_get(request: HttpRequest, response: HttpResponse, key: KeyPath):
    """The ticket with its next step for you: the status in your language, whose turn it
    is, what you may do now and what happens next. The ETag is its version."""
    return read(request, response, key)


@router.patch("/tickets/{key}", response={200: TicketOut, **errors()}, summary="Edit a ticket")
def ticket_edit(request: HttpRequest, response: HttpResponse, key: KeyPath, payload: TicketPatch):
    """Staff change the title, priority, type or custom fields. Send If-Match (or
    `version`): a change based on an older version is refused with 409."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_edit(
        actor=request.user,
        ticket=ticket,
        title=payload.title,
        priority=payload.priority,
        type=payload.type,
        fields=payload.fields,
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)


@router.put(
    "/tickets/{key}/assignee", response={200: TicketOut, **errors()}, summary="Assign to staff"
)
def ticket_assign(request: HttpRequest, response: HttpResponse, key: KeyPath, payload: PersonIn):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_assign(
        actor=request.user,
        ticket=ticket,
        assignee=person_for(request, payload.person, "person"),
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)


@router.put(
    "/tickets/{key}/customer-assignee",
    response={200: TicketOut, **errors()},
    summary="Name the customer-side contact",
)
def ticket_assign_customer(
    request: HttpRequest, response: HttpResponse, key: KeyPath, payload: PersonIn
):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_assign_customer(
        actor=request.user,
        ticket=ticket,
        person=person_for(request, payload.person, "person"),
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)


@router.put("/tickets/{key}/team", response={200: TicketOut, **errors()}, summary="Route")
def ticket_route(request: HttpRequest, response: HttpResponse, key: KeyPath, payload: TeamIn):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    team = None
    if payload.team is not None:
        team = Team.objects.filter(desk_id=ticket.desk_id, slug=payload.team).first()
        if team is None:
            raise InvalidInput({"team": Problem("ticket.team.unknown")})
    services.ticket_route(
        actor=request.user,
        ticket=ticket,
        team=team,
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)
