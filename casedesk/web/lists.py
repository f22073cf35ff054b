"""Ticket lists for both sides: one keyset page through `ticket_page_for_actor`, each row
phrased for the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails

from casedesk.common.errors import InvalidInput
from casedesk.tickets.models import Ticket
from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import ticket_page_for_actor, workflow_of
from casedesk.web import present
from casedesk.web.access import is_staff
from casedesk.web.ticketpage import language

SORTS = {
    "-updated": _("Recently updated"),
    "updated": _("Least recently updated"),
    "-created": _("Newest first"),
    "created": _("Oldest first"),
    "due": _("Due first (service level)"),
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    status: str
    turn: str
    turn_text: str


def page_context(request: HttpRequest, filters: TicketFilters, chosen: dict) -> dict:
    customer = not is_staff(request.user)
    cursor = request.GET.get("cursor") or None
    problem: str = ""
    try:
        found = ticket_page_for_actor(
            user=request.user, filters=filters, cursor=cursor, limit=PAGE_SIZE
        )
    except InvalidInput:
        problem = str(_("That page link no longer works; here is the first page."))
        found = ticket_page_for_actor(user=request.user, filters=filters, limit=PAGE_SIZE)
        cursor = None
    lang = language()
    rows = [
        Row(
            t,
            workflow_of(t).place_label(t.status, t.sub_status, lang),
            t.turn,
            present.turn_text(t.turn, customer=customer),
        )
        for t in found.tickets
    ]
    keep = {k: v for k, v in request.GET.items() if k not in ("cursor", "_") and v}
    return {
        "rows": rows,
        "chosen": chosen,
        "sorts": SORTS,
        "problem": problem,
        "next_query": urlencode({**keep, "cursor": found.next_cursor}) if found.next_cursor else "",
        "first_query": urlencode(keep) if cursor else "",
        "query": urlencode(keep),
    }


def partial(request: HttpRequest) -> bool:
    """Only the list, for htmx swapping it under the filters; a whole page otherwise (a
    normal visit, a boosted link, or htmx restoring a page from the history)."""
    htmx = getattr(request, "htmx", None)  # set by django-htmx's middleware
    if not isinstance(htmx, HtmxDetails):
        return False
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def with_query(base: dict, **changes) -> str:
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})
