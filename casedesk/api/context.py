"""Small readings of the request every router needs: the viewer's language and the version
the caller last saw (If-Match, or `version` in the body)."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from casedesk.common.errors import InvalidInput, Problem, VersionRequired

LANGUAGES = {code for code, _ in settings.LANGUAGES}
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,15})"?\s*$')


def lang_of(request: HttpRequest) -> str:
    """The caller's own language, else their organisation's, else the request's."""
    user = request.user
    for lang in (
        getattr(user, "language", ""),
        getattr(getattr(user, "organisation", None), "language", ""),
        getattr(request, "LANGUAGE_CODE", ""),
    ):
        if lang in LANGUAGES:
            return lang
    return "en"


def expected_version(request: HttpRequest, body_version: int | None) -> int:
    """The version the caller based the change on: the If-Match header (an ETag of a read)
    or the body's `version`; the two must agree when both are given, and one is needed
    (428 without either)."""
    header = request.headers.get("If-Match")
    if header is None:
        if body_version is None:
            raise VersionRequired
        return body_version
    match = _ETAG.match(header)
    if match is None:
        raise InvalidInput({"If-Match": Problem("ticket.if_match_invalid")})
    version = int(match.group(1))
    if body_version is not None and body_version != version:
        raise InvalidInput({"version": Problem("ticket.version_disagree")})
    return version


def with_etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = f'"{version}"'
