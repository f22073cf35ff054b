"""The desk's releases in the agent workspace: the version lines with their releases, a
release's page (the tickets fixed in it, the customer environments that run it, every
deployment of it), and fixing a ticket in a release with its notes for customers.
Declaring releases and recording deployments go through the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from casedesk.common.errors import CasedeskError, NotFound
from casedesk.releases import selectors as release_selectors
from casedesk.releases.services import fix_record
from casedesk.tickets import selectors
from casedesk.web.access import only_for, ticket_or_404
from casedesk.web.errors import problem_of
from casedesk.web.forms import FixForm, typed
from casedesk.web.ticketpage import language

staff_required = only_for("staff")


def _desk(request: HttpRequest, desk_id: int):
    try:
        return selectors.desk_for_user(user=request.user, desk_id=desk_id)
    except NotFound:
        raise Http404 from None


@require_safe
@staff_required
def releases(request: HttpRequest, desk_id: int) -> HttpResponse:
    desk = _desk(request, desk_id)
    lines: dict = {}
    for release in release_selectors.release_overview(user=request.user, desk=desk):
        lines.setdefault(release.line, []).append(release)
    return render(
        request, "agent/releases.html", {"desk": desk, "lines": lines.items(), "nav": "desks"}
    )


@require_safe
@staff_required
def release(request: HttpRequest, desk_id: int, version: str) -> HttpResponse:
    desk = _desk(request, desk_id)
    try:
        found, fixes, running, deployments = release_selectors.release_detail(
            user=request.user, desk=desk, version=version
        )
    except NotFound:
        raise Http404 from None
    lang = language()
    fallback = desk.workflow.workflow.languages[0]
    notes = [
        (fix, (fix.notes or {}).get(lang) or (fix.notes or {}).get(fallback) or "") for fix in fixes
    ]
    return render(
        request,
        "agent/release.html",
        {
            "desk": desk,
            "release": found,
            "fixes": notes,
            "running": running,
            "deployments": deployments,
            "tz": desk.time_zone,
            "nav": "desks",
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def fix(request: HttpRequest, key: str) -> HttpResponse:
    """Fix the ticket in a release of its desk, with a note for customers per language."""
    ticket = ticket_or_404(request, key)
    releases = list(release_selectors.releases_for(user=request.user, desk=ticket.desk))
    languages = list(ticket.workflow.workflow.languages)
    problem = None
    if request.method == "POST":
        form = FixForm(request.POST, languages=languages)
        try:
            fix_record(
                actor=request.user,
                ticket=ticket,
                release=form.release_of(releases),
                kind=form.read()["kind"] or "fix",
                notes=form.notes(),
                audience=form.audience_chosen(),
            )
        except CasedeskError as exc:
            problem = problem_of(exc)
        else:
            messages.success(request, _("The fix was recorded."))
            return redirect("agent:ticket", key=ticket.key)
    names = dict(settings.LANGUAGES)
    context = {
        "ticket": ticket,
        "releases": releases,
        "fixes": list(release_selectors.fixes_of(ticket)),
        "languages": [(code, names.get(code, code)) for code in languages],
        "problem": problem,
        "values": typed(request) if problem else {},
        "nav": "queues",
    }
    return render(request, "agent/fix.html", context, status=problem.status if problem else 200)
