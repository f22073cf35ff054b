"""Keep the API's error shape for answers that come from outside its handlers (an unknown
address, a method the address does not take), and refuse addresses no handler should see
(NUL characters, broken Unicode) before any reaches the database."""

from __future__ import annotations

import json

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse

from casedesk.common.errors import Problem
from casedesk.common.outage import UNAVAILABLE

from .errors import error_body, error_language
from .parsing import clean_text

PREFIX = "/api/"
PROBLEMS = {
    404: "api.address.unknown",
    405: "api.method_not_allowed",
    413: "api.too_large",
    503: UNAVAILABLE,  # (the database was out of reach before the API's handlers ran)
}


class ApiErrorShape:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        try:
            texts = (request.path, *request.GET.keys(), *request.GET.values())
        except SuspiciousOperation:  # too many parameters
            return self._error(request, 400, Problem("api.address.too_many_parameters"))
        for text in texts:
            problem = clean_text(text)
            if problem:
                return self._error(request, 400, Problem("api.address.invalid_text"))
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            code = PROBLEMS.get(response.status_code)
            shaped = self._error(
                request,
                response.status_code,
                Problem(code) if code else Problem("plain", text=response.reason_phrase),
            )
            for header in ("Allow", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response

    @staticmethod
    def _error(request, status: int, problem: Problem) -> HttpResponse:
        response = HttpResponse(
            json.dumps(error_body(status, problem, request)),
            status=status,
            content_type="application/json; charset=utf-8",
        )
        response["Content-Language"] = error_language(request)
        return response
