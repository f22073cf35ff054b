"""Ticket lists for both sides: one keyset page through `ticket_page_for_actor`, each row
phrased for the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails

from casedesk.common.errors import InvalidInput
from casedesk.tickets.models import Ticket
from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import ticket_page_for_actor, turn_is_mine, workflow_of
from casedesk.web import present
from casedesk.web.access import is_staff
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


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    status: str
    turn: str
    turn_text: str
    tz: str  # the zone its times are shown in
    zone_label: str = ""  # 'CET' when the list's times are in more than one zone
    url: str = ""  # the ticket's page on the viewer's side
    updated: str = ""  # when it was last updated, in `tz`
    select_label: SafeString | str = ""  # the agent's check box: "Select SDA-12"


# Where each side opens a ticket; reversed once per page, not once per row (a ticket key
# is letters, digits and a hyphen, which need no quoting in a path).
_PLACEHOLDER = "KEY-0"


def page_context(request: HttpRequest, filters: TicketFilters, chosen: dict) -> dict:
    customer = not is_staff(request.user)
    cursor = request.GET.get("cursor") or None
    problem: str = ""
    # the portal's rows name their reporter; neither side shows the team or the contact
    related = ("reporter",) if customer else ()
    try:
        found = ticket_page_for_actor(
            user=request.user, filters=filters, cursor=cursor, limit=PAGE_SIZE, related=related
        )
    except InvalidInput:
        problem = str(_("That page link no longer works; here is the first page."))
        found = ticket_page_for_actor(
            user=request.user, filters=filters, limit=PAGE_SIZE, related=related
        )
        cursor = None
    lang = language()
    viewer = viewer_zone(request)
    zones = {viewer.for_desk(t.desk.time_zone) for t in found.tickets}
    mixed = len(zones) > 1  # only without a zone of the viewer's own: label every time
    page_of = reverse("portal:ticket" if customer else "agent:ticket", args=[_PLACEHOLDER])
    select = "" if customer else gettext("Select %(key)s")
    rows = []
    for t in found.tickets:
        wf, tz = workflow_of(t), viewer.for_desk(t.desk.time_zone)
        turn = present.turn_text(
            t.turn,
            customer=customer,
            mine=customer and turn_is_mine(user=request.user, ticket=t),
            waits_for=wf.waits_for_at(t.status, t.sub_status),
            final=t.category in ("closed", "cancelled"),
        )
        rows.append(
            Row(
                t,
                wf.place_label(t.status, t.sub_status, lang),
                t.turn,
                turn,
                tz,
                abbreviation(t.updated_at, tz) if mixed else "",
                url=page_of.replace(_PLACEHOLDER, t.key),
                updated=present.moment(t.updated_at, tz),
                # as {% blocktranslate %} did: the key escaped, the translation as written
                select_label=mark_safe(select % {"key": escape(t.key)}) if select else "",  # noqa: S308
            )
        )
    keep = {k: v for k, v in request.GET.items() if k not in ("cursor", "_") and v}
    return {
        "rows": rows,
        "chosen": chosen,
        "sorts": SORTS,
        "activities": ACTIVITY_LABELS,
        "tz_hint": hint(viewer, zones) if rows else "",
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
