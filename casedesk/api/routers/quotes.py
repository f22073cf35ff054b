"""Quotes on a ticket: read them, send one (staff), accept or decline one (the customer's
approver, or staff recording the customer's answer). Each move is the workflow's own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Status
from pydantic import Field, StringConstraints

from casedesk.quotes import selectors as quote_selectors
from casedesk.quotes import services as quote_services
from casedesk.tickets import selectors

from ..context import expected_version
from ..schemas import In, PersonRef, Schema, Version, person_ref
from .tickets import KeyPath, errors

router = Router(tags=["quotes"])
NumberPath = Annotated[int, Path(..., ge=1, le=2**31 - 1, description="the quote's number")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Money = Annotated[str, StringConstraints(pattern=r"^\d{1,9}([.,]\d{1,2})?$")]


class QuoteOut(Schema):
    number: int = Field(description="1, 2, ... on its ticket")
    state: str = Field(description="sent, accepted, declined, expired or withdrawn")
    hours: Decimal | None
    amount: Decimal | None
    currency: str = Field(description="with an amount: ISO 4217, such as DKK")
    text: str
    valid_until: date = Field(description="the last day it may be accepted, desk's zone")
    sent_by: PersonRef | None
    sent_at: datetime
    decided_by: PersonRef | None
    decided_at: datetime | None
    on_behalf: bool = Field(description="staff recorded the customer's answer")
    reason: str = Field(description="why it was declined")
    superseded_by: int | None = Field(description="the number of the quote that replaced it")


class QuoteIn(In):
    hours: Money | None = Field(None, description="hours, or else an amount")
    amount: Money | None = None
    currency: Annotated[str, StringConstraints(max_length=3)] = ""
    text: Text
    valid_until: Day = Field(description="the last day it may be accepted, desk's zone")
    version: Version | None = None


class AcceptIn(In):
    note: Text = Field("", description="staff: how the customer gave their answer")
    on_behalf: bool = Field(False, description="staff: the customer gave this answer")


class DeclineIn(In):
    reason: Text
    on_behalf: bool = Field(False, description="staff: the customer gave this answer")


def quote_out(view, numbers: dict[int, int]) -> dict:
    q = view.quote
    return {
        "number": q.number,
        "state": view.state,
        "hours": q.hours,
        "amount": q.amount,
        "currency": q.currency,
        "text": q.text,
        "valid_until": q.valid_until,
        "sent_by": person_ref(q.sent_by),
        "sent_at": q.sent_at,
        "decided_by": person_ref(q.decided_by) if q.decided_by_id else None,
        "decided_at": q.decided_at,
        "on_behalf": q.on_behalf,
        "reason": q.reason,
        "superseded_by": numbers.get(q.superseded_by_id) if q.superseded_by_id else None,
    }


def _read(request: HttpRequest, key: str, number: int | None = None):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    views = quote_selectors.quotes_for(user=request.user, ticket=ticket)
    numbers = {v.quote.pk: v.quote.number for v in views}
    return ticket, views, numbers


@router.get("/tickets/{key}/quotes", response={200: list[QuoteOut], **errors()}, summary="Quotes")
def quotes_list(request: HttpRequest, key: KeyPath):
    """The ticket's quotes, newest first, each in the state it is in today (a sent quote
    past its validity is `expired`). Everyone who may see the ticket sees them."""
    _, views, numbers = _read(request, key)
    return [quote_out(v, numbers) for v in views]


@router.get(
    "/tickets/{key}/quotes/{number}", response={200: QuoteOut, **errors()}, summary="A quote"
)
def quote_read(request: HttpRequest, key: KeyPath, number: NumberPath):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    view = quote_selectors.quote_for(user=request.user, ticket=ticket, number=number)
    _, _, numbers = _read(request, key)
    return quote_out(view, numbers)


@router.post("/tickets/{key}/quotes", response={201: QuoteOut, **errors()}, summary="Send a quote")
def quote_send(request: HttpRequest, key: KeyPath, payload: QuoteIn):
    """Staff send a quote through the workflow's `quote: send` transition; an open older
    quote is withdrawn by it. Send If-Match (or `version`)."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    quote = quote_services.quote_send(
        actor=request.user,
        ticket=ticket,
        hours=payload.hours,
        amount=payload.amount,
        currency=payload.currency,
        text=payload.text,
        valid_until=payload.valid_until,
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    return Status(201, _one(request, key, quote.number))


def _one(request: HttpRequest, key: str, number: int) -> dict:
    _, views, numbers = _read(request, key)
    return quote_out(next(v for v in views if v.quote.number == number), numbers)


@router.post(
    "/tickets/{key}/quotes/{number}/accept",
    response={200: QuoteOut, **errors()},
    summary="Accept a quote",
)
def quote_accept(request: HttpRequest, key: KeyPath, number: NumberPath, payload: AcceptIn):
    """The customer's approver accepts; staff record an answer the customer gave them with
    `on_behalf` and a `note`. An expired quote is refused (409 `quote.expired`)."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    view = quote_selectors.quote_for(user=request.user, ticket=ticket, number=number)
    quote_services.quote_accept(
        actor=request.user,
        ticket=ticket,
        quote_id=view.quote.pk,
        note=payload.note,
        on_behalf=payload.on_behalf,
        channel="api",
    )
    return _one(request, key, number)


@router.post(
    "/tickets/{key}/quotes/{number}/decline",
    response={200: QuoteOut, **errors()},
    summary="Decline a quote",
)
def quote_decline(request: HttpRequest, key: KeyPath, number: NumberPath, payload: DeclineIn):
    """The customer's approver declines, saying why; the workflow's decline transition
    follows."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    view = quote_selectors.quote_for(user=request.user, ticket=ticket, number=number)
    quote_services.quote_decline(
        actor=request.user,
        ticket=ticket,
        quote_id=view.quote.pk,
        reason=payload.reason,
        on_behalf=payload.on_behalf,
        channel="api",
    )
    return _one(request, key, number)
