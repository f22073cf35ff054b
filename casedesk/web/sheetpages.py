"""The service sheet's own pages, alike for customers and staff: the printable sheet and
the stored PDF of an approved one. Both read only through a ticket the person may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from casedesk.desks import roles
from casedesk.sheets import selectors as sheet_selectors
from casedesk.sheets.printing import sheet_html

from .access import ticket_or_404
from .ticketpage import language


@require_safe
@login_required
def sheet_print(request: HttpRequest, key: str) -> HttpResponse:
    with roles.read_once():
        ticket = ticket_or_404(request, key)
        views = sheet_selectors.sheets_for(user=request.user, ticket=ticket)
    cycle = request.GET.get("cycle", "")
    chosen = next((v.sheet.pk for v in views if str(v.sheet.cycle) == cycle), None)
    return HttpResponse(sheet_html(ticket, chosen, lang=language(), views=views))


@require_safe
@login_required
def sheet_pdf(request: HttpRequest, key: str, cycle: int) -> HttpResponse:
    ticket = ticket_or_404(request, key)
    sheet = sheet_selectors.sheet_pdf_for(user=request.user, ticket=ticket, cycle=cycle)
    if sheet is None:
        raise Http404
    response = HttpResponse(bytes(sheet.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{ticket.key}-{cycle}.pdf"'
    response["X-Content-SHA256"] = sheet.pdf_sha256
    return response
