"""The agent's queues: named views over `ticket_page_for_actor`, narrowed by filters."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from casedesk.common import clock
from casedesk.tickets import selectors
from casedesk.tickets.search import SLA_ORDER, TicketFilters
from casedesk.web import lists
from casedesk.web.ticketpage import language

QUEUES = {
    "mine": _("Mine"),
    "teams": _("My teams'"),
    "unassigned": _("Unassigned"),
    "waiting": _("Waiting for customer"),
    "recent": _("Recently updated"),
    "all": _("All"),
}
STATES = ("open", "closed", "any")
SLA_FILTERS = {"breached": _("Target missed"), "at_risk": _("Target close")}
# A service-level list is read in its own order (tickets.search.SLA_ORDER), whatever the
# sort chosen: the one in most need first, and a page read by walking an index in that
# order, at any number of tickets. The page says so.
SLA_ORDER_LABELS = {
    "breached": _("In service-level order: the target missed longest ago first."),
    "at_risk": _("In service-level order: the first due first."),
}


def _filters(request: HttpRequest, desks: list) -> tuple[TicketFilters, dict]:
    q = request.GET
    queue, state, sort = q.get("queue", ""), q.get("state", ""), q.get("sort", "")
    queue = queue if queue in QUEUES else "mine"
    state = state if state in STATES else "open"
    sort = sort if sort in lists.SORTS else "-updated"
    desk_ids = {d.pk for d in desks}
    desk = int(q["desk"]) if q.get("desk", "").isdigit() and int(q["desk"]) in desk_ids else None
    status = q.get("status", "")[:60] if desk else ""
    activity = q.get("activity", "")
    activity = activity if activity in lists.ACTIVITY else ""
    text = q.get("q", "")[:200]
    sla = q.get("sla", "") if q.get("sla", "") in SLA_FILTERS else ""
    args: dict = {
        "sla": sla or None,
        "desk": desk,
        "status": status or None,
        "text": text,
        # only the "all" queue: with a person or team filter SQLite took that filter's
        # index and sorted (bench/README.md); those queues keep the chosen order
        "sort": SLA_ORDER[sla] if sla and queue == "all" else sort,
        "open": {"open": True, "closed": False, "any": None}[state],
        "active": lists.ACTIVITY[activity],
    }
    if queue == "mine":
        args["assignee"] = "me"
    elif queue == "teams":
        args["teams"] = selectors.team_ids_of(user=request.user) or (-1,)
    elif queue == "unassigned":
        args["assignee"] = "none"
    elif queue == "waiting":
        args["turn"] = "customer"
    elif queue == "recent":
        args["updated_since"] = clock.now() - timedelta(days=2)
        args["open"] = None if state == "open" else args["open"]
    chosen = {
        "queue": queue,
        "state": state,
        "sort": sort,
        "desk": desk,
        "status": status,
        "activity": activity,
        "q": text,
        "sla": sla,
    }
    return TicketFilters(**args), chosen


def queue_context(request: HttpRequest) -> dict:
    desks = list(selectors.desks_for_user(user=request.user).select_related("workflow"))
    filters, chosen = _filters(request, desks)
    context = lists.page_context(request, filters, chosen)
    lang = language()
    statuses = []
    if chosen["desk"]:
        wf = next(d for d in desks if d.pk == chosen["desk"]).workflow.workflow
        statuses = [(k, wf.text(s.label, lang)) for k, s in wf.statuses.items()]
    base = {k: v for k, v in chosen.items() if k != "queue"}
    context.update(
        desks=desks,
        statuses=statuses,
        sla_filters=SLA_FILTERS,
        sla_order=SLA_ORDER_LABELS.get(chosen["sla"], "") if chosen["queue"] == "all" else "",
        queues=[(k, label, lists.with_query(base, queue=k)) for k, label in QUEUES.items()],
        transitions=bulk_transitions(desks, lang),
        nav="queues",
    )
    return context


def bulk_transitions(desks, lang: str) -> list[tuple[str, str]]:
    """Staff transitions of the workflows these desks run, for the bulk menu."""
    seen: dict[str, str] = {}
    for desk in desks:
        wf = desk.workflow.workflow
        for key, t in wf.transitions.items():
            if t.by & {"staff", "agent", "lead", "admin"} and key not in seen:
                seen[key] = wf.text(t.label, lang)
    return sorted(seen.items(), key=lambda item: item[1])
