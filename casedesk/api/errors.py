"""One shape for every error the API answers, and the handlers that produce it.

    {"code": "transition.role", "kind": "transition_refused",
     "message": "The step “Cancel” is not open to customer organisation admins.",
     "params": {"role": "org_admin", "transition": "cancel"},
     "errors": {}, "reason": "role", "missing": [], "current_version": null}

`code` is stable, dotted and machine-readable, and `params` are the values its sentence
names (workflow things by their keys); `message` is that sentence for people, in the
caller's language: `Accept-Language` when it names a language Casedesk speaks, else the
person's own setting, else English. `kind` is the family of the error (the value `code`
had before codes were dotted). `errors` names each bad field with its own code, params
and message; `reason` and `missing` explain a refused transition (the engine's words);
`current_version` comes with a 409, so the caller can re-read and retry.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation.trans_real import parse_accept_lang_header
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from pydantic import Field

from casedesk.common.errors import (
    CasedeskError,
    InvalidInput,
    Problem,
    StaleTicket,
    TransitionRefused,
)
from casedesk.common.outage import RETRY_AFTER, UNAVAILABLE, database_unreachable
from casedesk.web.messages import say

log = logging.getLogger("casedesk.api")

LANGUAGES = {code for code, _ in settings.LANGUAGES}


class FieldError(Schema):
    code: str = Field(description="stable, machine-readable: see the API guide")
    params: dict[str, Any] = Field(default_factory=dict)
    message: str = Field(description="the sentence, in the caller's language")


class Error(Schema):
    code: str = Field(description="stable, dotted, machine-readable: see the API guide")
    kind: str = Field(description="the family: invalid, forbidden, not_found, conflict...")
    message: str = Field(description="the sentence, in the caller's language")
    params: dict[str, Any] = Field(default_factory=dict, description="what the sentence names")
    errors: dict[str, FieldError] = Field(default_factory=dict, description="by field")
    reason: str | None = Field(None, description="why a transition was refused")
    missing: list[str] = Field(default_factory=list, description="what a transition needs")
    current_version: int | None = Field(None, description="the ticket's version, on a 409")


KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "version_required",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
# Every operation documents these; each comes in the `Error` shape.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 428, 429)


class UnsupportedMediaType(Exception):
    def __init__(self, given: str):
        super().__init__(given)
        self.given = given


class BadJson(Exception):
    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.problem = Problem(code, **params)


def error_language(request: HttpRequest | None) -> str:
    """`Accept-Language` if it names a language we speak, else the person's, else English."""
    if request is not None:
        for lang, _ in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
            for candidate in (lang.lower(), lang.lower().split("-")[0]):
                if candidate in LANGUAGES:
                    return candidate
        try:
            own = getattr(getattr(request, "user", None), "language", "")
        except DatabaseError:  # the person could not be read (the database is down)
            own = ""
        if own in LANGUAGES:
            return own
    return "en"


def error_body(
    status: int,
    problem: Problem,
    request: HttpRequest | None = None,
    *,
    kind: str | None = None,
    errors: dict[str, Problem] | None = None,
    workflow=None,
    **extra,
) -> dict:
    lang = error_language(request)
    fields = {
        name: FieldError(code=p.code, params=p.params, message=say(p, lang, workflow))
        for name, p in (errors or {}).items()
    }
    body = Error(
        code=problem.code,
        kind=kind or KINDS.get(status, "error"),
        message=say(problem, lang, workflow),
        params=problem.params,
        errors=fields,
        **extra,
    )
    return body.model_dump()


def error_response(api, request, status: int, problem: Problem, **extra) -> HttpResponse:
    response = api.create_response(
        request, error_body(status, problem, request, **extra), status=status
    )
    response["Content-Language"] = error_language(request)
    return response


def _field_name(loc) -> str:
    parts = [str(p) for p in loc[1:] if p not in ("payload", "filters", "body")]
    return ".".join(parts) or "body"


def _schema_problem(item: dict) -> Problem:
    if item.get("type") == "missing":
        return Problem("input.required")
    return Problem("input.malformed", detail=str(item.get("type", "invalid")))


def install(api) -> None:
    """Map every exception the API can meet to the one shape."""

    @api.exception_handler(CasedeskError)
    def casedesk_error(request: HttpRequest, exc: CasedeskError):
        refused = exc if isinstance(exc, TransitionRefused) else None
        return error_response(
            api,
            request,
            exc.status,
            exc.problem,
            kind=exc.kind,
            errors=exc.errors if isinstance(exc, InvalidInput) else None,
            workflow=exc.workflow,
            reason=refused.reason if refused else None,
            missing=list(refused.missing) if refused else [],
            current_version=exc.current if isinstance(exc, StaleTicket) else None,
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError):
        errors: dict[str, Problem] = {}
        for item in exc.errors:
            errors.setdefault(_field_name(item.get("loc", ())), _schema_problem(item))
        return error_response(api, request, 422, Problem("input.invalid"), errors=errors)

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled):
        wait = int(exc.wait or 60)
        response = error_response(api, request, 429, Problem("api.rate_limited", wait=wait))
        response["Retry-After"] = str(wait)
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            return error_response(api, request, 413, Problem("api.too_large"))
        if isinstance(cause, UnsupportedMediaType):
            return error_response(api, request, 415, Problem("api.media_type", given=cause.given))
        if isinstance(cause, BadJson):
            return error_response(api, request, 400, cause.problem)
        if isinstance(cause, ValueError | RecursionError):
            return error_response(api, request, 400, Problem("api.json.invalid"))
        if isinstance(exc, AuthenticationError) and exc.message == "Unauthorized":
            return error_response(api, request, 401, Problem("api.unauthorized"))
        # our own HttpErrors carry a registered code as their message
        return error_response(api, request, exc.status_code, Problem.of(exc.message))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return error_response(api, request, 404, Problem("api.not_found"))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: Exception):
        return error_response(api, request, 413, Problem("api.too_large"))

    @api.exception_handler(TooManyFilesSent)
    def too_many_files(request: HttpRequest, exc: Exception):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return error_response(api, request, 413, Problem("api.too_many_files", limit=limit))

    @api.exception_handler(TooManyFieldsSent)
    def too_many_fields(request: HttpRequest, exc: Exception):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return error_response(api, request, 413, Problem("api.too_many_fields", limit=limit))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception):
        if database_unreachable(exc):
            log.warning("API: no database for %s %s: %s", request.method, request.path, exc)
            response = error_response(api, request, 503, Problem(UNAVAILABLE))
            response["Retry-After"] = RETRY_AFTER
            return response
        log.exception("API error on %s %s", request.method, request.path)
        return error_response(api, request, 500, Problem("api.server_error"))
