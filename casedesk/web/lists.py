"""Ticket lists for both sides: one keyset page through `ticket_rows_for_actor`, each row
phrased for the viewer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails

from casedesk.accounts.models import person_name
from casedesk.common.errors import InvalidInput
from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import ticket_rows_for_actor, turn_is_mine, workflow_of
from casedesk.web import present
from casedesk.web.access import is_staff
from casedesk.web.listrows import rows_html
from casedesk.web.ticketpage import language
from casedesk.web.zones import abbreviation, hint, viewer_zone

SORTS = {
    "-updated": _("Recently updated"),
    "updated": _("Least recently updated"),
    "-created": _("Newest first"),
    "created": _("Oldest first"),
    "due": _("Due first (service level)"),
}
PAGE_SIZE = 50
# the `activity` filter of both lists: a status is active while the desk has work to do
ACTIVITY: dict[str, bool | None] = {"": None, "active": True, "inactive": False}
ACTIVITY_LABELS = {
    "": _("Active or not"),
    "active": _("Active"),
    "inactive": _("Inactive"),
}


# Where each side opens a ticket; reversed once per page, not once per row (a ticket key
# is letters, digits and a hyphen, which need no quoting in a path).
_PLACEHOLDER = "KEY-0"


def page_context(request: HttpRequest, filters: TicketFilters, chosen: dict) -> dict:
    customer = not is_staff(request.user)
    cursor = request.GET.get("cursor") or None
    problem: str = ""
    try:
        found = ticket_rows_for_actor(
            user=request.user, filters=filters, cursor=cursor, limit=PAGE_SIZE, reporter=customer
        )
    except InvalidInput:
        problem = str(_("That page link no longer works; here is the first page."))
        found = ticket_rows_for_actor(
            user=request.user, filters=filters, limit=PAGE_SIZE, reporter=customer
        )
        cursor = None
    viewer = viewer_zone(request)
    tickets: list[Any] = found.tickets  # the rows of ticket_rows_for_actor
    zones = {viewer.for_desk(t.desk_time_zone) for t in tickets}
    rows = _rows(request, tickets, customer=customer, viewer=viewer, mixed=len(zones) > 1)
    keep = {k: v for k, v in request.GET.items() if k not in ("cursor", "_") and v}
    return {
        "rows": rows,
        "rows_html": rows_html(rows, customer=customer),
        "chosen": chosen,
        "sorts": SORTS,
        "activities": ACTIVITY_LABELS,
        "tz_hint": hint(viewer, zones) if rows else "",
        "problem": problem,
        "next_query": urlencode({**keep, "cursor": found.next_cursor}) if found.next_cursor else "",
        "first_query": urlencode(keep) if cursor else "",
        "query": urlencode(keep),
    }


def _rows(request: HttpRequest, tickets, *, customer: bool, viewer, mixed: bool) -> list[dict]:
    """Each ticket of a page as the words and values its row shows, for the viewer.

    A row is a plain dict of the strings it shows (`listrows` makes its HTML). The labels that
    repeat from row to row (a status, whose turn it is) are phrased once per page;
    `mixed` (the page's times are in more than one zone) labels each time with its
    zone."""
    lang = language()
    page_of = reverse("portal:ticket" if customer else "agent:ticket", args=[_PLACEHOLDER])
    select = "" if customer else gettext("Select %(key)s")
    places: dict[tuple[str, str, str], str] = {}
    turns: dict[tuple, str] = {}
    mines: dict[tuple, bool] = {}
    rows = []
    for t in tickets:
        wf, tz = workflow_of(t), viewer.for_desk(t.desk_time_zone)
        place = (t.workflow_checksum, t.status, t.sub_status)
        status = places.get(place)
        if status is None:
            status = places[place] = wf.place_label(t.status, t.sub_status, lang)
        # whose turn depends on the place and on whether the viewer reported the ticket or
        # is its contact (viewer_turn), not on the ticket's times: asked once per kind
        people = (*place, t.type, t.priority, t.reporter_id, t.customer_assignee_id)
        mine = mines.get(people) if customer else False
        if mine is None:
            mine = mines[people] = turn_is_mine(user=request.user, ticket=t)
        final = t.category in ("closed", "cancelled")
        said = (t.turn, mine, final, wf.waits_for_at(t.status, t.sub_status))
        turn = turns.get(said)
        if turn is None:
            turn = turns[said] = present.turn_text(
                t.turn, customer=customer, mine=mine, waits_for=said[3], final=final
            )
        row = {
            "key": t.key,
            "title": t.title,
            "version": t.version,
            "active": t.active,
            "url": page_of.replace(_PLACEHOLDER, t.key),
            "status": status,
            "turn": t.turn,
            "turn_text": turn,
            "tz": tz,
            "zone_label": abbreviation(t.updated_at, tz) if mixed else "",
            "updated": present.moment(t.updated_at, tz),
            "updated_iso": t.updated_at.isoformat(),
        }
        if customer:
            row["reporter"] = person_name(
                t.reporter_first_name, t.reporter_last_name, t.reporter_username
            )
        else:
            row["organisation"] = t.organisation_name
            row["assignee"] = (
                person_name(t.assignee_first_name, t.assignee_last_name, t.assignee_username)
                if t.assignee_id is not None
                else ""
            )
            # as {% blocktranslate %} did: the key escaped, the translation as written
            row["select_label"] = mark_safe(select % {"key": escape(t.key)})  # noqa: S308
        rows.append(row)
    return rows


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
