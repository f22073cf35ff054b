"""The REST API under /api/v1/: one NinjaAPI, a router per resource, one error shape."""

from __future__ import annotations

from functools import wraps

from ninja import NinjaAPI

from casedesk.common.errors import Problem

from . import errors
from .auth import AUTH, refuse_token_in_address
from .parsing import StrictJsonParser
from .routers import (
    conversation,
    desks,
    estimates,
    invoicing,
    people,
    quotes,
    relations,
    releases,
    sheets,
    sla,
    tickets,
    webhooks,
    workflow,
)

DESCRIPTION = """
Drive Casedesk from other systems and scripts: the same rules as the web pages, because
every call goes through the same ticket services.

**Authentication.** A personal API token in the header, `Authorization: Bearer cdk_...`
(make one under *Account → API tokens*; a `read` token may only read), or the browser's
login session, which must send the CSRF token (`X-CSRFToken`) with every change.
Tokens are limited to a number of requests per minute; past it the answer is 429 with
`Retry-After`.

**Errors** all have one shape: `code` (stable and dotted, such as `transition.role`),
`params` (the values the error names, workflow things by their keys), `message` (the
sentence, in the language of `Accept-Language` when Casedesk speaks it, else your own
setting, else English), `kind` (the family: `invalid`, `forbidden`, `not_found`...),
`errors` by field (each with its own `code`, `params` and `message`), and for refused
transitions `reason` and `missing`; a 409 carries `current_version`. Something you may
not see is a 404, exactly like something that does not exist. Never parse `message`.

**Concurrency.** Reads of a ticket carry its version as the `ETag`. Send it back as
`If-Match` (or as `version` in the body) with a change: if someone changed the ticket
meanwhile, the answer is 409 and nothing is written.
"""

api = NinjaAPI(
    title="Casedesk API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    parser=StrictJsonParser(),
    urls_namespace="api-v1",
)
errors.install(api)


def _query_names(operation) -> frozenset[str]:
    return frozenset(
        name
        for model in operation.models
        if model.__ninja_param_source__ == "query"
        for name in model.__ninja_flatten_map__
    )


def guard(run):
    """Before anything else: tokens never travel in the address, and the address holds
    only the parameters the operation names (no lookups or orderings of the caller's)."""
    known = _query_names(run.__self__)

    @wraps(run)
    def checked(request, *args, **kwargs):
        problem = refuse_token_in_address(request)
        if problem:
            return errors.error_response(api, request, 400, problem)
        unknown = sorted(set(request.GET) - known)
        if unknown:
            fields = {name: Problem("input.unknown_parameter") for name in unknown}
            invalid = Problem("input.invalid")
            return errors.error_response(api, request, 422, invalid, errors=fields)
        return run(request, *args, **kwargs)

    return checked


api.add_decorator(guard, mode="view")
for module in (
    desks,
    tickets,
    workflow,
    conversation,
    relations,
    people,
    sheets,
    estimates,
    quotes,
    invoicing,
    webhooks,
    releases,
    sla,
):
    api.add_router("", module.router)
