"""Updates in the portal: a release's What's new page, per language, and the
organisation's overview of what is fixed but not yet installed, from which a customer may
ask for an update. Views parse, read through `releases.whatsnew`, and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from casedesk.common.errors import NotFound
from casedesk.releases.whatsnew import updates_for, whats_new_for
from casedesk.tickets import selectors, services
from casedesk.web.access import only_for
from casedesk.web.ticketpage import language

customer_required = only_for("customer")
LANGUAGES = {code for code, _ in settings.LANGUAGES}


@require_safe
@customer_required
def updates_desks(request: HttpRequest) -> HttpResponse:
    desks = selectors.desks_for_user(user=request.user)
    if len(desks) == 1:
        return redirect("portal:updates", desk_id=desks[0].pk)
    return render(request, "portal/updates_desks.html", {"desks": desks, "nav": "updates"})


@require_safe
@customer_required
def updates(request: HttpRequest, desk_id: int) -> HttpResponse:
    try:
        overview = updates_for(user=request.user, desk_id=desk_id)
    except NotFound:
        raise Http404 from None
    return render(request, "portal/updates.html", {"o": overview, "nav": "updates"})


@require_safe
@customer_required
def whats_new(request: HttpRequest, desk_id: int, version: str) -> HttpResponse:
    lang = request.GET.get("lang") or language()
    if lang not in LANGUAGES:
        lang = language()
    try:
        page = whats_new_for(user=request.user, desk_id=desk_id, version=version, lang=lang)
    except NotFound:
        raise Http404 from None
    context = {
        "page": page,
        "languages": list(settings.LANGUAGES),
        "nav": "updates",
        "tz": page.desk.time_zone,
    }
    return render(request, "portal/whats_new.html", context)


@require_POST
@customer_required
def ask_for_update(request: HttpRequest, desk_id: int) -> HttpResponse:
    """A new case asking the supplier for an update, naming the cases that wait for one."""
    try:
        overview = updates_for(user=request.user, desk_id=desk_id)
    except NotFound:
        raise Http404 from None
    if not overview.waiting:
        messages.info(request, _("Nothing is waiting for an update."))
        return redirect("portal:updates", desk_id=desk_id)
    lines = [f"- {w.ticket.key} {w.ticket.title} ({w.release.version})" for w in overview.waiting]
    ticket = services.ticket_create(
        actor=request.user,
        desk=overview.desk,
        title=_("Please update us: %(count)d fixed cases are waiting")
        % {"count": len(overview.waiting)},
        description=_("These cases are fixed in a release we do not run everywhere yet:")
        + "\n\n"
        + "\n".join(lines),
    )
    messages.success(request, _("We asked for an update in %(key)s.") % {"key": ticket.key})
    return redirect("portal:ticket", key=ticket.key)
