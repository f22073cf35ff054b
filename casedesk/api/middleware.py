"""Keep the API's error shape for answers that come from outside its handlers (an unknown
address, a method the address does not take), and refuse addresses no handler should see
(NUL characters, broken Unicode) before any reaches the database."""

from __future__ import annotations

import json

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse

from .errors import error_body
from .parsing import clean_text

PREFIX = "/api/"
MESSAGES = {404: "no such address in the API", 405: "this address does not take that method"}


class ApiErrorShape:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        try:
            texts = (request.path, *request.GET.keys(), *request.GET.values())
        except SuspiciousOperation:  # too many parameters
            return self._error(400, "the address has too many parameters")
        for text in texts:
            problem = clean_text(text)
            if problem:
                return self._error(400, f"the address {problem}")
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            shaped = self._error(
                response.status_code,
                MESSAGES.get(response.status_code, response.reason_phrase.lower()),
            )
            if "Allow" in response:
                shaped["Allow"] = response["Allow"]
            return shaped
        return response

    @staticmethod
    def _error(status: int, message: str) -> HttpResponse:
        return HttpResponse(
            json.dumps(error_body(status, message)),
            status=status,
            content_type="application/json; charset=utf-8",
        )
