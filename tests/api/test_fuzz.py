"""Schema-driven fuzzing of the live API (SECURITY-TESTS T73): schemathesis reads the
OpenAPI document the running application publishes and throws generated requests, valid
and invalid, at every operation. No answer may be a server error or differ from the
document; this runs in every test pass with a bounded number of examples."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from casedesk.api.models import ApiToken
from casedesk.api.tokens import token_create
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
EXAMPLES = 12


@pytest.fixture
def keep_connection():
    """The application runs inside the test's transaction: do not let the end of a request
    close the database connection (Django's own test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["alice", "agent", "admin"])
def caller(request, world, keep_connection, settings):
    """A little of everything to find, and a token for one role (no rate limit here, and
    no limit on the bad tokens the fuzzer sends on purpose: those have their own tests)."""
    settings.CASEDESK_API_AUTH_FAILURE_LIMIT = 10**6
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="fuzz me")
    services.comment_add(actor=world.alice, ticket=t, body="hello")
    services.attachment_add(actor=world.alice, ticket=t, uploads=[BytesUpload("a.txt", b"a")])
    user = getattr(world, request.param)
    token, secret = token_create(actor=user, user=user, name="fuzz", scope="write")
    ApiToken.objects.filter(pk=token.pk).update(rate_limit=10**6)
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_answer_matches_the_schema(case, caller):
    # Not `positive_data_acceptance`: a request can match the schema and still be refused
    # for what it means (a forged page cursor, a ticket type the desk does not have): 422.
    case.call_and_validate(headers=caller, excluded_checks=[positive_data_acceptance])
