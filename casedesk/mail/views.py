"""A person's mail preferences page. Thin: read, or store, through preferences.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .preferences import CHOICES, preferences_for, preferences_set

LABELS = {
    "new_tickets": "New tickets",
    "comments": "Comments",
    "status_changes": "Status changes",
    "your_turn": "When it is my turn",
    "reminders": "Reminders before something happens by itself",
    "assignments": "Tickets given to me",
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        preferences_set(user=request.user, values={n: n in request.POST for n in CHOICES})
        return redirect("mail-preferences")
    current = preferences_for(user=request.user)
    rows = [(name, LABELS[name], current[name]) for name in CHOICES]
    return render(request, "mail/preferences.html", {"rows": rows})
