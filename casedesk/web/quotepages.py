"""Sending and answering a quote from a ticket page, alike for both faces: read the form,
call the quote service, say what happened. The faces render the page around it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from casedesk.common.errors import NotFound
from casedesk.quotes import selectors as quote_selectors
from casedesk.quotes import services as quote_services
from casedesk.web.forms import QuoteAnswerForm, QuoteForm, version_of


def quote_send(request: HttpRequest, ticket) -> str:
    typed = QuoteForm(request.POST).read()
    quote_services.quote_send(
        actor=request.user,
        ticket=ticket,
        hours=typed["hours"] or None,
        amount=typed["amount"] or None,
        currency=typed["currency"],
        text=typed["text"],
        valid_until=typed["valid_until"],
        expected_version=version_of(request),
        channel="web",
    )
    return _("The quote was sent to the customer.")


def quote_answer(request: HttpRequest, ticket, number: int, move: str) -> str:
    """`move` is accept or decline; staff answer only on the customer's word (`confirm`)."""
    if move not in ("accept", "decline"):
        raise NotFound("quote.not_found")
    typed = QuoteAnswerForm(request.POST).read()
    view = quote_selectors.quote_for(user=request.user, ticket=ticket, number=number)
    on_behalf = bool(getattr(request.user, "is_supplier_staff", False) and typed["confirm"])
    version = version_of(request)
    if move == "accept":
        quote_services.quote_accept(
            actor=request.user,
            ticket=ticket,
            quote_id=view.quote.pk,
            note=typed["note"],
            on_behalf=on_behalf,
            expected_version=version,
        )
        return _("The quote was accepted.")
    quote_services.quote_decline(
        actor=request.user,
        ticket=ticket,
        quote_id=view.quote.pk,
        reason=typed["reason"],
        on_behalf=on_behalf,
        expected_version=version,
    )
    return _("The quote was declined.")
