"""The agent workspace: queues with bulk changes, the full ticket page with every staff
action, registering a ticket for a customer, and each desk's workflow drawn out. Views
parse, call a service or selector and render; the rules live in the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from casedesk.common import clock
from casedesk.common.errors import CasedeskError, InvalidInput, NotFound, Problem
from casedesk.desks import roles
from casedesk.mail.outbound.adhoc import ticket_mail_send
from casedesk.sheets import estimates
from casedesk.sheets import selectors as sheet_selectors
from casedesk.sheets import services as sheet_services
from casedesk.tickets import selectors, services
from casedesk.web import quotepages
from casedesk.web.access import only_for, ticket_or_404
from casedesk.web.errors import problem_of
from casedesk.web.forms import (
    ChoiceForm,
    CommentForm,
    DuplicateForm,
    EditForm,
    EstimateForm,
    MailForm,
    TransitionForm,
    WorkForm,
    confirmed,
    typed,
    uploads_of,
    version_of,
)
from casedesk.web.lists import partial
from casedesk.web.ticketpage import language, ticket_context
from casedesk.web.zones import viewer_zone

from . import queues as queue_defs
from .bulk import bulk_apply
from .diagram import workflow_diagram

staff_required = only_for("staff")


# -- queues ---------------------------------------------------------------------------


@require_safe
@staff_required
def queues(request: HttpRequest) -> HttpResponse:
    context = queue_defs.queue_context(request)
    template = "agent/_queue.html" if partial(request) else None
    return render(request, template or "agent/queues.html", context)


@require_POST
@staff_required
def bulk(request: HttpRequest) -> HttpResponse:
    outcomes, label = bulk_apply(request)
    return render(
        request, "agent/bulk_result.html", {"outcomes": outcomes, "label": label, "nav": "queues"}
    )


# -- the ticket page --------------------------------------------------------------------


def _page(request, ticket, *, problem=None, action: str = "", status: int = 200):
    with roles.read_once():
        return _render_page(request, ticket, problem=problem, action=action, status=status)


def _render_page(request, ticket, *, problem, action: str, status: int):
    user = request.user
    context = ticket_context(user, ticket, viewer_zone(request))
    context.update(
        problem=problem,
        failed_action=action,
        values=typed(request) if problem else {},
        nav="queues",
        staff_people=selectors.desk_staff_for(user=user, desk=ticket.desk),
        people=selectors.organisation_people_for(user=user, ticket=ticket),
        teams=selectors.desk_teams_for(user=user, desk=ticket.desk),
        edit_fields=_edit_fields(context["wf"], ticket),
        **_choices(context["wf"]),
    )
    context.update(_sheet_form(request, ticket, context, problem, action))
    return render(request, "agent/ticket.html", context, status=status)


def _sheet_form(request, ticket, context, problem, action) -> dict:
    """The log-work form; `?correct=<entry>` fills it in to correct that entry."""
    kinds = sheet_selectors.work_kinds_for(user=request.user, ticket=ticket)
    extra: dict = {
        "staff_form": bool(kinds),
        "work_kinds": kinds,
        "log_url": f"/agent/t/{ticket.key}/log/",
        "today": sheet_services.local_day(ticket, clock.now()),
    }
    wanted = request.GET.get("correct", "")
    if not problem and wanted.isdigit():
        row = next(
            (
                r
                for v in context["sheet_views"]
                if v.writable
                for r in v.rows
                if r.counts and str(r.entry.pk) == wanted
            ),
            None,
        )
        if row is not None:
            e = row.entry
            extra.update(
                failed_action="log",
                values={
                    "day": e.day.isoformat(),
                    "minutes": str(e.minutes),
                    "kind": e.kind.slug,
                    "billable": "1" if e.billable else "0",
                    "description": e.description,
                    "corrects": str(e.pk),
                },
                correcting=e,
            )
    return extra


def _choices(wf) -> dict:
    lang = language()
    return {
        "type_choices": [(k, wf.text(t.label, lang)) for k, t in wf.types.items()],
        "priority_choices": [(k, wf.text(p.label, lang)) for k, p in wf.priorities.items()],
    }


def _edit_fields(wf, ticket) -> list[tuple]:
    lang = language()
    return [
        (name, wf.text(d.label, lang), d.kind, ticket.fields.get(name, ""), d.customer_visible)
        for name, d in wf.fields.items()
    ]


@require_safe
@staff_required
def ticket_page(request: HttpRequest, key: str) -> HttpResponse:
    with roles.read_once():  # the viewer's desks and role: one read for the whole page
        return _page(request, ticket_or_404(request, key, people=False))  # see ticket_context


def _change(request: HttpRequest, key: str, name: str, call) -> HttpResponse:
    """Run one change; on a refusal show the page again with the reason and the input."""
    ticket = ticket_or_404(request, key)
    try:
        done = call(ticket)
    except CasedeskError as exc:
        problem = problem_of(exc)
        return _page(
            request,
            ticket_or_404(request, key),
            problem=problem,
            action=name,
            status=problem.status,
        )
    messages.success(request, done)
    return redirect("agent:ticket", key=ticket.key)


@require_POST
@staff_required
def reply(request: HttpRequest, key: str) -> HttpResponse:
    typed_in = CommentForm(request.POST).read()
    internal = typed_in["internal"]

    def call(ticket):
        services.comment_add(
            actor=request.user,
            ticket=ticket,
            body=typed_in["body"],
            internal=internal,
            attachments=request.FILES.getlist("attachments"),
            expected_version=version_of(request),
        )
        return _("Your internal note was saved.") if internal else _("Your reply was sent.")

    return _change(request, key, "reply", call)


@require_POST
@staff_required
def mail(request: HttpRequest, key: str) -> HttpResponse:
    """A mail from the ticket to any address (also people without an account); the mail,
    its recipients and files stay on the ticket's history."""

    def call(ticket):
        ticket_mail_send(
            actor=request.user,
            ticket=ticket,
            **MailForm(request.POST).values(),
            attachments=uploads_of(request),
            expected_version=version_of(request),
        )
        return _("Your mail is on its way; it is kept on the ticket's history.")

    return _change(request, key, "mail", call)


@require_POST
@staff_required
def act(request: HttpRequest, key: str, transition: str) -> HttpResponse:
    def call(ticket):
        confirmed(request, ticket, transition)
        staff = selectors.desk_staff_for(user=request.user, desk=ticket.desk)
        people = selectors.organisation_people_for(user=request.user, ticket=ticket)
        form = TransitionForm(
            request.POST, workflow=ticket.desk.workflow.workflow, staff=staff, people=people
        )
        services.ticket_transition(
            actor=request.user,
            ticket=ticket,
            transition=transition,
            comment_internal=form.read()["comment_internal"],
            **form.values(),
            expected_version=version_of(request),
        )
        ticket.refresh_from_db()
        step = selectors.next_step_for(user=request.user, ticket=ticket, lang=language())
        return _("Done. The ticket is now: %(status)s.") % {"status": step.label}

    return _change(request, key, transition, call)


@require_POST
@staff_required
def assign(request: HttpRequest, key: str) -> HttpResponse:
    def call(ticket):
        staff = selectors.desk_staff_for(user=request.user, desk=ticket.desk)
        person = ChoiceForm(request.POST, name="assignee", offered=staff).chosen()
        services.ticket_assign(
            actor=request.user,
            ticket=ticket,
            assignee=person,
            expected_version=version_of(request),
        )
        return _("Assigned to %(name)s.") % {"name": person} if person else _("Unassigned.")

    return _change(request, key, "assign", call)


@require_POST
@staff_required
def contact(request: HttpRequest, key: str) -> HttpResponse:
    def call(ticket):
        people = selectors.organisation_people_for(user=request.user, ticket=ticket)
        person = ChoiceForm(request.POST, name="customer_assignee", offered=people).chosen()
        services.ticket_assign_customer(
            actor=request.user, ticket=ticket, person=person, expected_version=version_of(request)
        )
        return _("The contact on the customer's side was changed.")

    return _change(request, key, "contact", call)


@require_POST
@staff_required
def route(request: HttpRequest, key: str) -> HttpResponse:
    def call(ticket):
        teams = selectors.desk_teams_for(user=request.user, desk=ticket.desk)
        team = ChoiceForm(request.POST, name="team", offered=teams).chosen()
        services.ticket_route(
            actor=request.user, ticket=ticket, team=team, expected_version=version_of(request)
        )
        return _("Routed to %(team)s.") % {"team": team.name} if team else _("Team removed.")

    return _change(request, key, "route", call)


@require_POST
@staff_required
def duplicate(request: HttpRequest, key: str) -> HttpResponse:
    def call(ticket):
        form = DuplicateForm(request.POST).values()
        try:
            original = selectors.ticket_get_for_actor(user=request.user, key=form["original"])
        except NotFound:
            raise InvalidInput({"original": Problem("ticket.other.unknown")}) from None
        services.ticket_mark_duplicate(
            actor=request.user,
            ticket=ticket,
            original=original,
            comment=form["comment"],
            expected_version=version_of(request),
        )
        return _("Marked as a duplicate of %(key)s.") % {"key": original.key}

    return _change(request, key, "duplicate", call)


@require_POST
@staff_required
def edit(request: HttpRequest, key: str) -> HttpResponse:
    def call(ticket):
        form = EditForm(request.POST, workflow=ticket.desk.workflow.workflow)
        services.ticket_edit(
            actor=request.user,
            ticket=ticket,
            **form.values(),
            expected_version=version_of(request),
        )
        return _("The ticket was saved.")

    return _change(request, key, "edit", call)


@require_POST
@staff_required
def log_work(request: HttpRequest, key: str) -> HttpResponse:
    """Log work on the ticket's sheet, or correct an entry (`corrects`). Logging only adds
    entries, so it overwrites nothing and names no ticket version."""
    form = WorkForm(request.POST)

    def call(ticket):
        corrects = form.corrected_entry()
        common = dict(actor=request.user, **form.values())
        if corrects is not None:
            sheet_services.work_correct(entry_id=corrects, **common)
            return _("The correction was logged; the sheet counts it instead of the entry.")
        sheet_services.work_log(ticket=ticket, **common)
        return _("The work was logged on the service sheet.")

    return _change(request, key, "log", call)


@require_POST
@staff_required
def estimate_set(request: HttpRequest, key: str) -> HttpResponse:
    """Set or change the hour estimate; a raise above what was granted asks again."""
    hours = EstimateForm(request.POST).read()["hours"]

    def call(ticket):
        estimates.estimate_set(actor=request.user, ticket=ticket, hours=hours)
        return _("The hour estimate was saved.")

    return _change(request, key, "estimate", call)


@require_POST
@staff_required
def quote_send(request: HttpRequest, key: str) -> HttpResponse:
    return _change(request, key, "quote", lambda ticket: quotepages.quote_send(request, ticket))


@require_POST
@staff_required
def quote_answer(request: HttpRequest, key: str, number: int, move: str) -> HttpResponse:
    """Staff record the customer's answer to a quote, given by phone or mail."""
    return _change(
        request,
        key,
        "quote",
        lambda ticket: quotepages.quote_answer(request, ticket, number, move),
    )


# -- registering a ticket for a customer --------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def register(request: HttpRequest) -> HttpResponse:
    from .register import register_view

    return register_view(request)


# -- desks and their workflows ----------------------------------------------------------------


@require_safe
@staff_required
def desks(request: HttpRequest) -> HttpResponse:
    rows = selectors.desks_for_user(user=request.user).select_related("workflow")
    return render(request, "agent/desks.html", {"desks": rows, "nav": "desks"})


@require_safe
@staff_required
def workflow(request: HttpRequest, desk_id: int) -> HttpResponse:
    try:
        desk = selectors.desk_for_user(user=request.user, desk_id=desk_id)
    except NotFound:
        raise Http404 from None
    context = workflow_diagram(desk, language())
    context["nav"] = "desks"
    return render(request, "agent/workflow.html", context)
