"""Transitions: what the caller may do to a ticket now, and doing it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import Field, StringConstraints

from casedesk.tickets import selectors, services

from ..context import expected_version, lang_of, with_etag
from ..schemas import ActionOut, FieldValue, Id, In, Schema, TicketOut, Version
from .tickets import KeyPath, errors, person_for, read

router = Router(tags=["transitions"])


class TransitionsOut(Schema):
    version: int = Field(description="send it back as If-Match or `version`")
    status_label: str
    actions: list[ActionOut]


class TransitionIn(In):
    transition: Annotated[str, StringConstraints(max_length=60)]
    comment: Annotated[str, StringConstraints(max_length=100_000)] = ""
    comment_internal: bool = Field(False, description="staff: make the comment an internal note")
    sub_status: Annotated[str, StringConstraints(max_length=60)] | None = None
    fields: dict[Annotated[str, StringConstraints(max_length=60)], FieldValue] = Field(
        default_factory=dict, max_length=50
    )
    assignee: Id | None = None
    customer_assignee: Id | None = None
    version: Version | None = None


@router.get(
    "/tickets/{key}/transitions",
    response={200: TransitionsOut, **errors()},
    summary="What you may do now",
)
def transitions_list(request: HttpRequest, response: HttpResponse, key: KeyPath):
    """Each transition you may make now, with what it needs: a comment (and the question
    to answer), an assignee, a customer-side contact, fields, or a sub-status to pick."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    step = selectors.next_step_for(user=request.user, ticket=ticket, lang=lang_of(request))
    with_etag(response, ticket.version)
    return {
        "version": ticket.version,
        "status_label": step.label,
        "actions": [asdict(a) for a in step.actions],
    }


@router.post(
    "/tickets/{key}/transitions",
    response={200: TicketOut, **errors()},
    summary="Make a transition",
)
def transition_make(
    request: HttpRequest, response: HttpResponse, key: KeyPath, payload: TransitionIn
):
    """A refused transition answers 403 (your role or the ticket type may not) or 422 (the
    ticket is elsewhere, or something required is missing), with `reason` and `missing`."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    services.ticket_transition(
        actor=request.user,
        ticket=ticket,
        transition=payload.transition,
        comment=payload.comment,
        comment_internal=payload.comment_internal,
        sub_status=payload.sub_status,
        fields=payload.fields,
        assignee=person_for(request, payload.assignee, "assignee"),
        customer_assignee=person_for(request, payload.customer_assignee, "customer_assignee"),
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return read(request, response, key)
