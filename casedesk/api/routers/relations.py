"""Links between tickets, duplicates, followers and the history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from pydantic import Field, StringConstraints

from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.tickets import selectors, services

from ..context import expected_version
from ..schemas import Id, In, PersonRef, Schema, TicketOut, Version, person_ref
from .tickets import Key, KeyPath, errors, person_for, read

router = Router(tags=["relations"])


class LinkOut(Schema):
    kind: str = Field(description="relates_to or duplicate_of")
    direction: str = Field(description="outgoing: this ticket is the link's source")
    ticket: str = Field(description="the other ticket's key")
    title: str
    created_at: datetime


class LinkIn(In):
    other: Key = Field(description="the key of the related ticket")


class DuplicateIn(In):
    original: Key = Field(description="the key of the ticket this one repeats")
    comment: Annotated[str, StringConstraints(max_length=100_000)] = ""
    version: Version | None = None


class ParticipantOut(Schema):
    person: PersonRef
    created_at: datetime


class ParticipantIn(In):
    person: Id


class HistoryOut(Schema):
    id: int
    at: datetime
    kind: str
    actor: PersonRef | None
    actor_kind: str
    channel: str
    data: dict[str, Any]


def other_ticket(request: HttpRequest, key: str, field: str):
    try:
        return selectors.ticket_get_for_actor(user=request.user, key=key)
    except NotFound:
        raise InvalidInput({field: Problem("ticket.other.unknown")}) from None


def link_out(view) -> dict:
    return {
        "kind": view.kind,
        "direction": "outgoing" if view.outgoing else "incoming",
        "ticket": view.other.key,
        "title": view.other.title,
        "created_at": view.created_at,
    }


@router.get("/tickets/{key}/links", response={200: list[LinkOut], **errors()}, summary="Links")
def links_list(request: HttpRequest, key: KeyPath):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [link_out(v) for v in selectors.links_for(user=request.user, ticket=ticket)]


@router.post(
    "/tickets/{key}/links", response={201: list[LinkOut], **errors()}, summary="Link tickets"
)
def link_add(request: HttpRequest, key: KeyPath, payload: LinkIn):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_link(
        actor=request.user,
        ticket=ticket,
        other=other_ticket(request, payload.other, "other"),
        channel="api",
    )
    return Status(201, [link_out(v) for v in selectors.links_for(user=request.user, ticket=ticket)])


@router.post(
    "/tickets/{key}/duplicate",
    response={200: TicketOut, **errors()},
    summary="Mark as a duplicate",
)
def duplicate_mark(
    request: HttpRequest, response: HttpResponse, key: KeyPath, payload: DuplicateIn
):
    """Link this ticket to its original and close it as its workflow says."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_mark_duplicate(
        actor=request.user,
        ticket=ticket,
        original=other_ticket(request, payload.original, "original"),
        comment=payload.comment,
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)


@router.get(
    "/tickets/{key}/participants",
    response={200: list[ParticipantOut], **errors()},
    summary="Followers",
)
def participants_list(request: HttpRequest, key: KeyPath):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [
        {"person": person_ref(p.user), "created_at": p.created_at}
        for p in selectors.participants_for(user=request.user, ticket=ticket)
    ]


@router.post(
    "/tickets/{key}/participants",
    response={201: ParticipantOut, **errors()},
    summary="Add a follower",
)
def participant_add(request: HttpRequest, key: KeyPath, payload: ParticipantIn):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    found = services.participant_add(
        actor=request.user,
        ticket=ticket,
        person=person_for(request, payload.person, "person"),
        channel="api",
    )
    return Status(201, {"person": person_ref(found.user), "created_at": found.created_at})


@router.delete(
    "/tickets/{key}/participants/{person_id}",
    response={204: None, **errors()},
    summary="Remove a follower",
)
def participant_remove(request: HttpRequest, key: KeyPath, person_id: Id):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.participant_remove(
        actor=request.user,
        ticket=ticket,
        person=person_for(request, person_id, "person"),
        channel="api",
    )
    return Status(204, None)


@router.get(
    "/tickets/{key}/history", response={200: list[HistoryOut], **errors()}, summary="History"
)
def history_list(request: HttpRequest, key: KeyPath):
    """Every change, oldest first; customers see the entries meant for them."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [
        {
            "id": e.pk,
            "at": e.at,
            "kind": e.kind,
            "actor": person_ref(e.actor),
            "actor_kind": e.actor_kind,
            "channel": e.channel,
            "data": e.data,
        }
        for e in selectors.history_for(user=request.user, ticket=ticket)
    ]
