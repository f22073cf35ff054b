"""One shape for every error the API answers, and the handlers that produce it.

    {"code": "transition_refused", "message": "...", "errors": {}, "reason": "role",
     "missing": [], "current_version": null}

`code` is stable and machine-readable; `message` is for people. `errors` names each bad
field; `reason` and `missing` explain a refused transition (the engine's codes);
`current_version` comes with a 409, so the caller can re-read and retry.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from pydantic import Field

from casedesk.common.errors import CasedeskError

log = logging.getLogger("casedesk.api")


class Error(Schema):
    code: str = Field(description="stable, machine-readable: see the API guide")
    message: str
    errors: dict[str, str] = Field(default_factory=dict, description="what is wrong, by field")
    reason: str | None = Field(None, description="why a transition was refused")
    missing: list[str] = Field(default_factory=list, description="what a transition needs")
    current_version: int | None = Field(None, description="the ticket's version, on a 409")


CODES = {
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
}
# Every operation documents these; each comes in the `Error` shape.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 428, 429)


class UnsupportedMediaType(Exception):
    pass


class BadJson(Exception):
    pass


def error_body(status: int, message: str, *, code: str | None = None, **extra) -> dict:
    body = Error(code=code or CODES.get(status, "error"), message=message, **extra)
    return body.model_dump()


def error_response(api, request, status: int, message: str, **extra) -> HttpResponse:
    return api.create_response(request, error_body(status, message, **extra), status=status)


def _field_name(loc) -> str:
    parts = [str(p) for p in loc[1:] if p not in ("payload", "filters", "body")]
    return ".".join(parts) or "body"


def install(api) -> None:
    """Map every exception the API can meet to the one shape."""

    @api.exception_handler(CasedeskError)
    def casedesk_error(request: HttpRequest, exc: CasedeskError):
        detail = exc.detail
        return error_response(
            api,
            request,
            exc.status,
            exc.message,
            code=exc.code,
            errors=detail.get("errors") or {},
            reason=detail.get("reason"),
            missing=list(missing) if isinstance(missing := detail.get("missing"), list) else [],
            current_version=detail.get("current"),
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError):
        errors: dict[str, str] = {}
        for item in exc.errors:
            errors.setdefault(_field_name(item.get("loc", ())), item.get("msg", "invalid"))
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return error_response(api, request, 422, message, errors=errors)

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled):
        response = error_response(
            api, request, 429, "too many requests; wait the seconds in Retry-After, then retry"
        )
        response["Retry-After"] = str(int(exc.wait or 60))
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            return error_response(api, request, 413, "the request body is too large")
        if isinstance(cause, UnsupportedMediaType):
            return error_response(api, request, 415, str(cause))
        if isinstance(cause, BadJson | ValueError | RecursionError):
            return error_response(api, request, 400, f"the body is not valid JSON: {cause}")
        if isinstance(exc, AuthenticationError) and exc.message == "Unauthorized":
            return error_response(
                api, request, 401, "log in, or send 'Authorization: Bearer <your API token>'"
            )
        return error_response(api, request, exc.status_code, exc.message)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return error_response(api, request, 404, "not found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: Exception):
        return error_response(api, request, 413, "the request body is too large")

    @api.exception_handler(TooManyFilesSent)
    def too_many_files(request: HttpRequest, exc: Exception):
        return error_response(
            api, request, 413, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files at once"
        )

    @api.exception_handler(TooManyFieldsSent)
    def too_many_fields(request: HttpRequest, exc: Exception):
        return error_response(
            api, request, 413, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields"
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception):
        log.exception("API error on %s %s", request.method, request.path)
        return error_response(api, request, 500, "something went wrong on our side")
