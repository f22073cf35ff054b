"""The customer portal: the organisation's tickets, opening one, and the ticket page that
says where a case is and what happens next. Views parse, call a service or selector, and
render; every rule is in the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from casedesk.common.errors import CasedeskError, InvalidInput, NotFound, Problem
from casedesk.common.replica import reads_from_replica
from casedesk.releases.whatsnew import fixes_on_ticket
from casedesk.sheets import estimates
from casedesk.tickets import selectors, services
from casedesk.tickets.search import TicketFilters
from casedesk.web import lists, quotepages
from casedesk.web.access import only_for, ticket_or_404
from casedesk.web.errors import problem_of
from casedesk.web.forms import (
    CommentForm,
    EstimateForm,
    TicketForm,
    TransitionForm,
    confirmed,
    typed,
    uploads_of,
    version_of,
)
from casedesk.web.guidepage import guide_context
from casedesk.web.lists import partial
from casedesk.web.ticketpage import language, ticket_context
from casedesk.web.zones import viewer_zone

customer_required = only_for("customer")
RELEASE_EVENTS = ("release_deployed", "release_published")


# -- the list -------------------------------------------------------------------------


def portal_filters(request: HttpRequest) -> tuple[TicketFilters, dict]:
    q = request.GET
    scope = q.get("scope") if q.get("scope") in ("mine", "all") else "all"
    state = q.get("state", "")
    state = state if state in ("open", "closed", "any") else "open"
    waiting = q.get("waiting") == "1"
    activity = q.get("activity", "")
    activity = activity if activity in lists.ACTIVITY else ""
    sort = q.get("sort", "")
    sort = sort if sort in lists.SORTS else "-updated"
    text = q.get("q", "")[:200]
    filters = TicketFilters(
        reporter="me" if scope == "mine" else None,
        open={"open": True, "closed": False, "any": None}[state],
        waiting_for_me=waiting,
        active=lists.ACTIVITY[activity],
        text=text,
        sort=sort,
    )
    chosen = {
        "scope": scope,
        "state": state,
        "activity": activity,
        "waiting": waiting,
        "sort": sort,
        "q": text,
    }
    return filters, chosen


@require_safe
@customer_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    filters, chosen = portal_filters(request)
    context = lists.page_context(request, filters, chosen)
    context["nav"] = "tickets"
    template = "portal/_list.html" if partial(request) else None
    return render(request, template or "portal/list.html", context)


# -- opening a ticket ------------------------------------------------------------------


def _create_context(request: HttpRequest, desk_id: str | None) -> dict:
    desks = list(selectors.desks_for_user(user=request.user).select_related("workflow"))
    desk = None
    if desk_id and desk_id.isdigit():
        desk = next((d for d in desks if d.pk == int(desk_id)), None)
    elif len(desks) == 1:
        desk = desks[0]
    context = {"desks": desks, "desk": desk, "nav": "create"}
    if desk is not None:
        lang = language()
        wf = desk.workflow.workflow
        context["types"] = [
            (k, wf.text(t.label, lang)) for k, t in wf.types.items() if t.customer_may_create
        ]
        context["priorities"] = [(k, wf.text(p.label, lang)) for k, p in wf.priorities.items()]
        context["default_type"] = wf.default_type
        context["default_priority"] = wf.default_priority
        context["custom_fields"] = [
            (k, wf.text(f.label, lang), wf.text(f.help, lang), f.kind)
            for k, f in wf.fields.items()
            if f.customer_editable
        ]
    return context


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    desk_id = request.POST.get("desk") or request.GET.get("desk")
    context = _create_context(request, desk_id)
    if request.method != "POST":
        return render(request, "portal/create.html", context)
    context["values"] = typed(request)
    if context["desk"] is None:
        context["problem"] = problem_of(InvalidInput({"desk": Problem("desk.required")}))
        return render(request, "portal/create.html", context, status=422)
    try:
        form = TicketForm(request.POST, workflow=context["desk"].workflow.workflow)
        ticket = services.ticket_create(
            actor=request.user,
            desk=context["desk"],
            **form.values(),
            attachments=uploads_of(request),
            channel="web",
        )
    except CasedeskError as exc:
        context["problem"] = problem_of(exc)
        return render(request, "portal/create.html", context, status=context["problem"].status)
    return redirect("portal:created", key=ticket.key)


@require_safe
@customer_required
def ticket_created(request: HttpRequest, key: str) -> HttpResponse:
    ticket = ticket_or_404(request, key)
    step = selectors.next_step_for(user=request.user, ticket=ticket, lang=language())
    return render(request, "portal/created.html", {"ticket": ticket, "step": step})


# -- the ticket page -------------------------------------------------------------------


def _page(request, ticket, *, problem=None, action: str = "", status: int = 200):
    context = ticket_context(request.user, ticket, viewer_zone(request))
    context.update(
        problem=problem,
        failed_action=action,
        values=typed(request) if problem else {},
        nav="tickets",
    )
    if any(t.on in RELEASE_EVENTS for t in context["wf"].triggers):
        context["fix_releases"] = fixes_on_ticket(ticket)  # links to What's new
    needs_people = any("customer_assignee" in a.needs for a in context["step"].actions)
    if needs_people:
        context["people"] = selectors.organisation_people_for(user=request.user, ticket=ticket)
    return render(request, "portal/ticket.html", context, status=status)


@require_safe
@customer_required
def ticket_page(request: HttpRequest, key: str) -> HttpResponse:
    return _page(request, ticket_or_404(request, key, people=False))  # see ticket_context


@require_POST
@customer_required
def ticket_comment(request: HttpRequest, key: str) -> HttpResponse:
    ticket = ticket_or_404(request, key)
    try:
        services.comment_add(
            actor=request.user,
            ticket=ticket,
            body=CommentForm(request.POST).read()["body"],
            attachments=uploads_of(request),
            expected_version=version_of(request),
            channel="web",
        )
    except CasedeskError as exc:
        problem = problem_of(exc)
        fresh = ticket_or_404(request, key)
        return _page(request, fresh, problem=problem, action="comment", status=problem.status)
    messages.success(request, _("Your comment was added."))
    return redirect("portal:ticket", key=ticket.key)


@require_POST
@customer_required
def ticket_act(request: HttpRequest, key: str, transition: str) -> HttpResponse:
    ticket = ticket_or_404(request, key)
    try:
        confirmed(request, ticket, transition)
        people = (
            selectors.organisation_people_for(user=request.user, ticket=ticket)
            if request.POST.get("customer_assignee")
            else ()
        )
        form = TransitionForm(request.POST, workflow=ticket.desk.workflow.workflow, people=people)
        values = form.values()
        moved = services.ticket_transition(
            actor=request.user,
            ticket=ticket,
            transition=transition,
            comment=values["comment"],
            sub_status=values["sub_status"],
            fields=values["fields"],
            customer_assignee=values["customer_assignee"],
            expected_version=version_of(request),
            channel="web",
        )
    except CasedeskError as exc:
        problem = problem_of(exc)
        fresh = ticket_or_404(request, key)
        return _page(request, fresh, problem=problem, action=transition, status=problem.status)
    # the ticket as the change left it: `ticket` is what the page showed before the move
    step = selectors.next_step_for(user=request.user, ticket=moved, lang=language())
    messages.success(request, _("Done. The ticket is now: %(status)s.") % {"status": step.label})
    return redirect("portal:ticket", key=ticket.key)


@require_POST
@customer_required
def estimate_grant(request: HttpRequest, key: str) -> HttpResponse:
    """An approver grants the hour estimate they were shown."""
    ticket = ticket_or_404(request, key)
    try:
        estimates.estimate_grant(
            actor=request.user, ticket=ticket, hours=EstimateForm(request.POST).read()["hours"]
        )
    except CasedeskError as exc:
        problem = problem_of(exc)
        fresh = ticket_or_404(request, key)
        return _page(request, fresh, problem=problem, action="estimate", status=problem.status)
    messages.success(request, _("You approved the hour estimate."))
    return redirect("portal:ticket", key=ticket.key)


@require_POST
@customer_required
def quote_answer(request: HttpRequest, key: str, number: int, move: str) -> HttpResponse:
    ticket = ticket_or_404(request, key)
    try:
        done = quotepages.quote_answer(request, ticket, number, move)
    except CasedeskError as exc:
        problem = problem_of(exc)
        fresh = ticket_or_404(request, key)
        return _page(request, fresh, problem=problem, action="quote", status=problem.status)
    messages.success(request, done)
    return redirect("portal:ticket", key=ticket.key)


# -- the status guide ------------------------------------------------------------------


@require_safe
@login_required
def guides(request: HttpRequest) -> HttpResponse:
    desks = selectors.desks_for_user(user=request.user)
    if len(desks) == 1:
        return redirect("portal:guide", desk_id=desks[0].pk)
    return render(request, "portal/guides.html", {"desks": desks, "nav": "guides"})


@require_safe
@login_required
@reads_from_replica()
def guide(request: HttpRequest, desk_id: int) -> HttpResponse:
    try:
        desk = selectors.desk_for_user(user=request.user, desk_id=desk_id)
    except NotFound:
        raise Http404 from None
    context = guide_context(
        desk,
        request.GET.get("lang") or language(),
        organisation_id=None
        if getattr(request.user, "is_supplier_staff", False)
        else getattr(request.user, "organisation_id", None),
        tz=viewer_zone(request).for_desk(desk.time_zone),
    )
    context["nav"] = "guides"
    return render(request, "portal/guide.html", context)
