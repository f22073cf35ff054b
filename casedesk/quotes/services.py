"""Sending a quote and answering it, one function each. Each is one ticket transition (the
one whose effect is the quote move), made through `tickets.services.ticket_transition`
with the quote's rows kept in the same change: the ticket's lock is taken first, the
workflow decides who may move, and the history keeps a `quote_*` entry beside the move."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db.models import Max

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.tickets import services as ticket_services
from casedesk.tickets.models import Ticket
from casedesk.tickets.selectors import workflow_of
from casedesk.workflow.quote import (
    OPEN,
    decision_problem,
    offer_problem,
    quote_transitions,
    validity_problem,
)

from .errors import QuoteRefused
from .models import Quote

MAX_TEXT = 20_000


def local_today(ticket: Ticket, at: datetime | None = None) -> date:
    """Today in the desk's time zone: a quote is valid until the end of its last day there."""
    return (at or clock.now()).astimezone(ZoneInfo(ticket.desk.time_zone)).date()


def _transition(ticket: Ticket, move: str) -> str:
    keys = quote_transitions(workflow_of(ticket), move)
    if not keys:
        raise QuoteRefused(Problem("quote.not_offered"))
    return keys[0]


def _decimal(errors: dict, name: str, value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        errors[name] = Problem("input.invalid")
        return None
    if not number.is_finite():
        errors[name] = Problem("input.invalid")
        return None
    return number.quantize(Decimal("0.01"))


def _date(errors: dict, value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors["valid_until"] = Problem("input.required" if not value else "input.invalid")
        return None


def quote_send(
    *,
    actor,
    ticket: Ticket,
    text: str,
    valid_until,
    hours=None,
    amount=None,
    currency: str = "",
    expected_version: int | None = None,
    channel: str = "web",
) -> Quote:
    """Send the customer a quote; an open older one is withdrawn by it."""
    errors: dict[str, Problem] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = Problem("input.required")
    elif len(text) > MAX_TEXT:
        errors["text"] = Problem("input.too_long", limit=MAX_TEXT)
    hours_n, amount_n = _decimal(errors, "hours", hours), _decimal(errors, "amount", amount)
    currency = (currency or "").strip().upper()
    if not ({"hours", "amount"} & errors.keys()):
        wrong = offer_problem(hours=hours_n, amount=amount_n, currency=currency)
        if wrong is not None:
            errors[wrong[0]] = Problem(wrong[1])
    day = _date(errors, valid_until)
    if day is not None:
        wrong_day = validity_problem(day, local_today(ticket))
        if wrong_day is not None:
            errors["valid_until"] = Problem(wrong_day)
    if errors:
        raise InvalidInput(errors)
    assert day is not None
    made: list[Quote] = []

    def write(locked: Ticket, now: datetime) -> dict:
        older = list(Quote.objects.select_for_update().filter(ticket=locked, state__in=OPEN))
        number = (Quote.objects.filter(ticket=locked).aggregate(n=Max("number"))["n"] or 0) + 1
        quote = Quote.objects.create(
            ticket=locked,
            desk_id=locked.desk_id,
            organisation_id=locked.organisation_id,
            number=number,
            hours=hours_n,
            amount=amount_n,
            currency=currency if amount_n is not None else "",
            text=text,
            valid_until=day,
            sent_by=actor,
            sent_at=now,
        )
        for old in older:
            old.state, old.superseded_by = "withdrawn", quote
            old.save(update_fields=["state", "superseded_by"])
        made.append(quote)
        return {
            "quote": quote.pk,
            "number": number,
            "hours": str(hours_n) if hours_n is not None else None,
            "amount": str(amount_n) if amount_n is not None else None,
            "currency": quote.currency,
            "valid_until": day.isoformat(),
            "withdrew": [old.number for old in older],
        }

    ticket_services.ticket_transition(
        actor=actor,
        ticket=ticket,
        transition=_transition(ticket, "send"),
        expected_version=expected_version,
        channel=channel,
        beside=ticket_services.Beside("quote_sent", write),
    )
    return made[0]


def _decide(
    *,
    actor,
    ticket: Ticket,
    quote_id: int,
    move: str,
    comment: str,
    on_behalf: bool,
    expected_version: int | None,
    channel: str,
) -> Quote:
    errors: dict[str, Problem] = {}
    comment = (comment or "").strip()
    if move == "decline" and not comment:
        errors["reason"] = Problem("input.required")
    if actor.is_supplier_staff:
        # staff only record an answer the customer gave them, and say how they gave it
        if not on_behalf:
            errors["on_behalf"] = Problem("quote.on_behalf.unconfirmed")
        if not comment:
            errors.setdefault("reason" if move == "decline" else "note", Problem("input.required"))
    elif on_behalf:
        errors["on_behalf"] = Problem("quote.on_behalf.staff_only")
    if errors:
        raise InvalidInput(errors)
    decided: list[Quote] = []

    def write(locked: Ticket, now: datetime) -> dict:
        quote = Quote.objects.select_for_update().filter(ticket=locked, pk=quote_id).first()
        if quote is None:
            raise NotFound("quote.not_found")
        problem = decision_problem(quote.state, quote.valid_until, local_today(locked, now))
        if problem is not None:
            raise QuoteRefused(
                Problem(problem, valid_until=quote.valid_until.isoformat(), state=quote.state)
                if problem == "quote.expired"
                else Problem(problem, state=quote.state)
            )
        quote.state = "accepted" if move == "accept" else "declined"
        quote.decided_by, quote.decided_at, quote.on_behalf = actor, now, on_behalf
        if move == "decline":
            quote.reason = comment
        quote.save()
        decided.append(quote)
        return {"quote": quote.pk, "number": quote.number, "on_behalf": on_behalf}

    ticket_services.ticket_transition(
        actor=actor,
        ticket=ticket,
        transition=_transition(ticket, move),
        comment=comment,
        expected_version=expected_version,
        channel=channel,
        beside=ticket_services.Beside(
            "quote_accepted" if move == "accept" else "quote_declined", write
        ),
    )
    return decided[0]


def quote_accept(
    *,
    actor,
    ticket: Ticket,
    quote_id: int,
    note: str = "",
    on_behalf: bool = False,
    expected_version: int | None = None,
    channel: str = "web",
) -> Quote:
    """The customer's approver accepts the quote; staff may record that they did, saying
    how (`on_behalf` and a note). An expired quote cannot be accepted."""
    return _decide(
        actor=actor,
        ticket=ticket,
        quote_id=quote_id,
        move="accept",
        comment=note,
        on_behalf=on_behalf,
        expected_version=expected_version,
        channel=channel,
    )


def quote_decline(
    *,
    actor,
    ticket: Ticket,
    quote_id: int,
    reason: str,
    on_behalf: bool = False,
    expected_version: int | None = None,
    channel: str = "web",
) -> Quote:
    """The customer's approver declines the quote, saying why; the workflow's decline
    transition follows."""
    return _decide(
        actor=actor,
        ticket=ticket,
        quote_id=quote_id,
        move="decline",
        comment=reason,
        on_behalf=on_behalf,
        expected_version=expected_version,
        channel=channel,
    )
