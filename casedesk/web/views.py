"""Pages that belong to no side: the start page, logging in and out, password resets,
the language switch, attachment downloads and the health check."""

from __future__ import annotations

import sys
from typing import Literal, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from casedesk.accounts.services import user_set_language, user_set_time_zone
from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.common.outage import RETRY_AFTER, UNAVAILABLE, database_unreachable
from casedesk.common.settings_checks import time_zone_choices
from casedesk.tickets.attachments import attachment_get_for_actor, attachment_response

from .access import is_staff, ticket_or_404
from .client import client_address
from .forms import SettingForm
from .knownbrowser import browser_tag, known_for, login_name, remember
from .messages import say
from .throttle import login_attempt_allowed, login_failed, login_succeeded, reset_allowed
from .zones import COOKIE as ZONE_COOKIE

LANGUAGES = {code for code, _ in settings.LANGUAGES}

# The values Django accepts for a cookie's SameSite setting.
SameSite = Literal["Lax", "Strict", "None", False] | None


def safe_next(request: HttpRequest, value: str | None, default: str = "/") -> str:
    """A same-site path to go on to, or `default`: never another site (open redirects)."""
    value = value or ""
    if (
        value.isprintable()
        and " " not in value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and "\\" not in value
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and not urlsplit(value).netloc
    ):
        return value
    return default


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page (Django's handler500), but for a database that cannot be reached just
    now: 503 with the code and Retry-After. Drawn without the request's context, which
    may need the database (the session, the user)."""
    if not database_unreachable(sys.exc_info()[1]):
        return defaults.server_error(request)
    lang = translation.get_language() or "en"
    page = loader.render_to_string(
        "503.html",
        {"code": UNAVAILABLE, "message": say(Problem(UNAVAILABLE), lang), "lang": lang},
    )
    response = HttpResponse(page, status=503)
    response["Retry-After"] = RETRY_AFTER
    return response


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("agent:queues" if is_staff(request.user) else "portal:tickets")


@require_safe
@login_required
def ticket(request: HttpRequest, key: str) -> HttpResponse:
    """The one address of a ticket for both sides (links in mail): customers go to the
    portal, staff to the workspace; a ticket this person may not see is a plain 404."""
    found = ticket_or_404(request, key)
    side = "agent:ticket" if is_staff(request.user) else "portal:ticket"
    return redirect(side, key=found.key)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    code = SettingForm(request.POST, name="language").value()
    response = redirect(safe_next(request, request.POST.get("next")))
    if code not in LANGUAGES:
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=code)
    translation.activate(code)
    set_language_cookie(response, code)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def time_zone(request: HttpRequest) -> HttpResponse:
    """A person's own time zone for every page and mail; blank: their browser's."""
    context: dict = {
        "zones": time_zone_choices(),
        "browser_zone": request.COOKIES.get(ZONE_COOKIE, "")[:64],
    }
    if request.method == "POST":
        chosen = SettingForm(request.POST, name="time_zone").value()
        try:
            user_set_time_zone(user=request.user, time_zone=chosen)
        except InvalidInput:
            context.update(
                error=_("That is not a time zone Casedesk knows; choose one from the list."),
                chosen=chosen[:64],
            )
            return render(request, "web/time_zone.html", context, status=422)
        messages.success(request, _("Your time zone was saved."))
        return redirect("time-zone")
    context["chosen"] = getattr(request.user, "time_zone", "")
    return render(request, "web/time_zone.html", context)


def set_language_cookie(response: HttpResponse, code: str) -> None:
    """The one way the language cookie is set: HttpOnly, SameSite, and Secure under https."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 3600,
        samesite=cast(SameSite, settings.LANGUAGE_COOKIE_SAMESITE),
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )


@require_safe
@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    try:
        attachment = attachment_get_for_actor(user=request.user, attachment_id=attachment_id)
    except NotFound:
        raise Http404 from None
    return attachment_response(attachment, inline=request.GET.get("view") == "1")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        typed = request.POST.get("username", "")
        username, address = login_name(typed), client_address(request)
        known = known_for(request, typed)
        if known:
            # a browser that logged in to this account before has its own count, apart
            # from the guessers', and no address limit (no failure is counted for it)
            username, address = f"{username}|{browser_tag(request)}", "known-browser"
        if not login_attempt_allowed(username=username, address=address):
            # an unbound form: showing a bound one's errors would check the password
            form = self.get_form_class()(request, initial={"username": typed[:150]})
            context = self.get_context_data(form=form, throttled=True)
            return self.render_to_response(context, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            login_succeeded(username=username)
            remember(request, response, typed)
        elif not known:
            login_failed(address=address)
        return response

    def get_redirect_url(self):
        return safe_next(
            self.request, self.request.POST.get("next") or self.request.GET.get("next"), ""
        )

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        if language in LANGUAGES:
            set_language_cookie(response, language)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Queues the reset mail for the worker (web/reset.py) and always answers the same."""

    template_name = "web/password_reset.html"
    success_url = reverse_lazy("password_reset_sent")

    def form_valid(self, form):
        from .tasks import password_reset_mail

        email = form.cleaned_data["email"].strip().casefold()
        if reset_allowed(email=email, address=client_address(self.request)):
            password_reset_mail.enqueue(email=email)
        # the same answer when the limit is reached, so it tells nothing about the address
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
