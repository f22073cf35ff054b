"""The desk's releases in the agent workspace: the version lines with their releases, and
a release's page (the tickets fixed in it, the customer environments that run it, every
deployment of it). Reads only; declaring and fixing go through the services (API)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from casedesk.common.errors import NotFound
from casedesk.releases import selectors as release_selectors
from casedesk.tickets import selectors
from casedesk.web.access import only_for
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
