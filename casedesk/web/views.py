"""A minimal web face: proof that the server runs and who sees what.

The customer portal and the agent workspace are their own issue; these views only list
what the signed-in person may see and answer a health check.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from casedesk.tickets.selectors import ticket_list_for_actor


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    tickets = ticket_list_for_actor(user=request.user, limit=50)
    return render(request, "web/home.html", {"tickets": tickets})
