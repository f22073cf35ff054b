"""Headers every page carries, and the language a signed-in person chose."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse
from django.utils import translation

# No inline scripts or styles anywhere: everything comes from our own static files.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
LANGUAGES = {code for code, _ in settings.LANGUAGES}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Downloads set their own, stricter policy (attachments.attachment_response).
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if settings.SECURE_HSTS_SECONDS:
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            response.headers.setdefault("Strict-Transport-Security", hsts)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # pages about tickets are for this person only
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


class UserLanguageMiddleware:
    """After the browser's choice (LocaleMiddleware): a signed-in person's own setting wins."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user and user.is_authenticated else ""
        if chosen in LANGUAGES:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen in LANGUAGES:
            response.headers.setdefault("Content-Language", chosen)
        return response


class RequestSizeLimit:
    """Refuse a request body that is too large for its kind by its Content-Length, before
    anything reads or stores it (the CSRF check and the upload parser come later): files
    up to CASEDESK_MAX_REQUEST_BYTES, other bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE, and
    from someone who is not signed in (no session, no API token) 64 KB at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("a broken Content-Length", status=400, content_type="text/plain")
        if length and length > self.limit(request):
            return HttpResponse(
                "the request body is too large", status=413, content_type="text/plain"
            )
        return self.get_response(request)

    @staticmethod
    def limit(request) -> int:
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = (
            settings.CASEDESK_MAX_REQUEST_BYTES
            if multipart
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        signed_in = "HTTP_AUTHORIZATION" in request.META or (
            hasattr(request, "session") and request.session.get(SESSION_KEY) is not None
        )
        return limit if signed_in else min(limit, settings.CASEDESK_MAX_ANONYMOUS_BYTES)
