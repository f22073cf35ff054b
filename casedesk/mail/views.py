"""Mail pages: a person's preferences, and the desk staff's list of mail that needs them
(held when received, failed when sent). Thin: each calls a selector or a service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from casedesk.common.errors import CasedeskError, NotFound
from casedesk.web.messages import say_whole

from .access import (
    desks_reviewed_by,
    mail_problems_for,
    outbound_for_staff,
)
from .inbound.review import inbound_discard, inbound_release
from .outbound.send import mail_retry, notification_discard, notification_retry
from .preferences import CHOICES, preferences_for, preferences_set

LABELS = {
    "new_tickets": _("New tickets"),
    "comments": _("Comments"),
    "status_changes": _("Status changes"),
    "your_turn": _("When it is my turn"),
    "reminders": _("Reminders before something happens by itself"),
    "assignments": _("Tickets given to me"),
}


class PreferencesForm(forms.Form):
    """A box per kind of mail; a box not ticked is not posted at all."""

    def __init__(self, data):
        super().__init__(data)
        for name in CHOICES:
            self.fields[name] = forms.BooleanField(required=False)

    def values(self) -> dict[str, bool]:
        self.full_clean()
        return {name: bool(self.cleaned_data.get(name)) for name in CHOICES}


class ReleaseForm(forms.Form):
    """The ticket a held mail is released onto (empty: a new ticket)."""

    ticket = forms.CharField(required=False, strip=True)

    def key(self) -> str:
        """As typed; a key that names no ticket is refused by the service, with its code."""
        self.full_clean()
        return self.cleaned_data.get("ticket", "")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        preferences_set(user=request.user, values=PreferencesForm(request.POST).values())
        return redirect("mail-preferences")
    current = preferences_for(user=request.user)
    rows = [(name, LABELS[name], current[name]) for name in CHOICES]
    return render(request, "mail/preferences.html", {"rows": rows})


def _staff_only(request: HttpRequest) -> None:
    if desks_reviewed_by(request.user) == []:
        raise Http404("no such page")


@login_required
@require_safe
def problems(request: HttpRequest) -> HttpResponse:
    """Held received mail and mail that could not be sent, for the desks one works on."""
    _staff_only(request)
    held, failed, notifications = mail_problems_for(user=request.user)
    context = {"held": held, "failed": failed, "notifications": notifications, "nav": "mail"}
    return render(request, "mail/problems.html", context)


@login_required
@require_POST
def problem_act(request: HttpRequest, kind: str, mail_id: int, action: str) -> HttpResponse:
    _staff_only(request)
    try:
        if (kind, action) == ("inbound", "discard"):
            inbound_discard(actor=request.user, mail_id=mail_id)
        elif (kind, action) == ("inbound", "release"):
            inbound_release(
                actor=request.user, mail_id=mail_id, ticket_key=ReleaseForm(request.POST).key()
            )
        elif (kind, action) == ("outbound", "retry"):
            mail_retry(actor=request.user, mail=outbound_for_staff(user=request.user,
                                                                   mail_id=mail_id))  # fmt: skip
        elif (kind, action) == ("notification", "retry"):
            notification_retry(actor=request.user, item_id=mail_id)
        elif (kind, action) == ("notification", "discard"):
            notification_discard(actor=request.user, item_id=mail_id)
        else:
            raise Http404("no such action")
        messages.success(request, _g("Done."))
    except NotFound:
        raise Http404("no such mail") from None
    except CasedeskError as exc:
        messages.error(request, say_whole(exc))
    return redirect("mail-problems")
