"""Registering a ticket for a customer who phoned or wrote: the customer is the reporter."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from casedesk.common.errors import CasedeskError, InvalidInput, NotFound, Problem
from casedesk.tickets import selectors, services
from casedesk.web.errors import problem_of
from casedesk.web.forms import RegisterForm, typed, uploads_of
from casedesk.web.ticketpage import language

CHANNELS = ("phone", "mail")


def _context(request: HttpRequest) -> dict:
    desks = list(selectors.desks_for_user(user=request.user).select_related("workflow"))
    raw = request.POST.get("desk") or request.GET.get("desk") or ""
    desk = next((d for d in desks if str(d.pk) == raw), desks[0] if len(desks) == 1 else None)
    context: dict = {"desks": desks, "desk": desk, "nav": "register", "values": {}}
    if desk is not None:
        lang = language()
        wf = desk.workflow.workflow
        context.update(
            types=[(k, wf.text(t.label, lang)) for k, t in wf.types.items()],
            priorities=[(k, wf.text(p.label, lang)) for k, p in wf.priorities.items()],
            default_type=wf.default_type,
            default_priority=wf.default_priority,
            custom_fields=[
                (k, wf.text(f.label, lang), wf.text(f.help, lang), f.kind)
                for k, f in wf.fields.items()
            ],
            customers=selectors.customers_for_desk(user=request.user, desk=desk, limit=200),
        )
    return context


def register_view(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    if request.method != "POST":
        return render(request, "agent/register.html", context)
    context["values"] = typed(request)
    desk = context["desk"]
    try:
        if desk is None:
            raise InvalidInput({"desk": Problem("desk.required")})
        form = RegisterForm(request.POST, workflow=desk.workflow.workflow)
        try:
            reporter = selectors.customer_for_desk(
                user=request.user, desk=desk, username=form.reporter_name()
            )
        except NotFound:
            raise InvalidInput({"customer": Problem("ticket.reporter.unknown")}) from None
        ticket = services.ticket_create(
            actor=request.user,
            desk=desk,
            reporter=reporter,
            **form.values(),
            attachments=uploads_of(request),
            channel=form.channel_of(CHANNELS),
        )
    except CasedeskError as exc:
        context["problem"] = problem_of(exc)
        return render(request, "agent/register.html", context, status=context["problem"].status)
    messages.success(
        request,
        _("%(key)s was registered for %(name)s.") % {"key": ticket.key, "name": reporter},
    )
    return redirect("agent:ticket", key=ticket.key)
