"""Reads of quotes for a person: only through a ticket they may see, so the quotes of a
ticket they cannot see do not exist for them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import router

from casedesk.common.errors import NotFound
from casedesk.common.rows import Prepared
from casedesk.tickets import selectors as ticket_selectors
from casedesk.tickets.models import Ticket
from casedesk.workflow.quote import shown_state

from .models import Quote
from .services import local_today


@dataclass(frozen=True)
class QuoteView:
    quote: Quote
    state: str  # as the reader sees it: a sent quote past its validity is expired

    @property
    def open(self) -> bool:
        return self.state == "sent"


# read at every view of a ticket page: built by the ORM once (common.rows.Prepared)
_quotes = Prepared(
    lambda t: Quote.objects.filter(ticket_id=t).select_related("sent_by", "decided_by")
)


def quotes_for(*, user, ticket: Ticket) -> list[QuoteView]:
    """The ticket's quotes, newest first, with the state each is in today."""
    ticket_selectors.ticket_ensure_visible(user=user, ticket=ticket)
    today = local_today(ticket)
    rows = _quotes(ticket.pk, using=router.db_for_read(Quote))
    return [QuoteView(q, shown_state(q.state, q.valid_until, today)) for q in rows]


def quote_for(*, user, ticket: Ticket, number: int) -> QuoteView:
    for view in quotes_for(user=user, ticket=ticket):
        if view.quote.number == number:
            return view
    raise NotFound("quote.not_found")
