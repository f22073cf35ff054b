"""Pages where people make and revoke their own API tokens."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from casedesk.common import clock
from casedesk.common.errors import CasedeskError, InvalidInput
from casedesk.web.messages import say

from .models import ApiToken
from .tokens import token_create, token_revoke, tokens_of

LIFETIMES = [
    (7, _("7 days")),
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("180 days")),
    (365, _("1 year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("What will use it, e.g. 'monitoring'")
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, label=_("Scope")
    )
    days = forms.TypedChoiceField(choices=LIFETIMES, coerce=int, initial=90, label=_("Valid for"))


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, secret = token_create(
                    actor=request.user,
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_at=clock.now() + timedelta(days=form.cleaned_data["days"]),
                )
                form = TokenForm()
            except CasedeskError as exc:
                problems = exc.errors if isinstance(exc, InvalidInput) else {"": exc.problem}
                for field, problem in problems.items():
                    form.add_error(field if field in form.fields else None, say(problem))
        if secret is None:
            status = 400
    context = {
        "form": form,
        "secret": secret,
        "tokens": tokens_of(user=request.user),
        "now": clock.now(),
    }
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the secret is on this page once
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of your own tokens (administrators revoke others' in the admin)."""
    if not any(t.pk == token_id for t in tokens_of(user=request.user)):
        raise Http404("no such token")
    token_revoke(actor=request.user, token_id=token_id)
    return redirect("api-tokens")
