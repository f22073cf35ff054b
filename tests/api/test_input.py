"""Bad input (SECURITY-TESTS H: T74-T78, T13): a clear 4xx in the one error shape, and
nothing written."""

from __future__ import annotations

import json

import pytest
from django.db.models import Sum

from casedesk.tickets.models import Comment, Ticket, TicketEvent
from tests.helpers import version

from .conftest import Api

ERROR_KEYS = {
    "code",
    "kind",
    "message",
    "params",
    "errors",
    "reason",
    "missing",
    "current_version",
}


def state():
    return (
        Ticket.objects.count(),
        Ticket.objects.aggregate(v=Sum("version"))["v"],
        TicketEvent.objects.count(),
        Comment.objects.count(),
    )


def raw(api: Api, method: str, path: str, data, content_type="application/json", **headers):
    return getattr(api.client, method.lower())(
        f"/api/v1/{path}",
        data=data,
        content_type=content_type,
        headers={**api.headers, **headers},
    )


@pytest.fixture
def agent(world, ticket):
    return Api(world.agent)


CASES = {
    "broken JSON": ("POST", "tickets/{key}/comments", '{"body": "x"', 400),
    "a list for an object": ("POST", "tickets/{key}/comments", '["x"]', 422),
    "wrong type": ("POST", "tickets/{key}/comments", '{"body": 5}', 422),
    "a string for a number": ("PATCH", "tickets/{key}", '{"version": "1"}', 422),
    "a number for a boolean": (
        "POST",
        "tickets/{key}/comments",
        '{"body": "x", "internal": 0}',
        422,
    ),
    "unknown field": ("POST", "tickets/{key}/comments", '{"body": "x", "author": 1}', 422),
    "duplicate keys": ("POST", "tickets/{key}/comments", '{"body": "x", "body": "y"}', 400),
    "NaN": ("PATCH", "tickets/{key}", '{"fields": {"a": NaN}}', 400),
    "1e309": ("PATCH", "tickets/{key}", '{"fields": {"a": 1e309}}', 400),
    "a huge id": ("PUT", "tickets/{key}/assignee", '{"person": 9999999999999999999999}', 422),
    "a lone surrogate": ("POST", "tickets/{key}/comments", '{"body": "\\ud800"}', 400),
    "a NUL": ("POST", "tickets/{key}/comments", '{"body": "a\\u0000b"}', 400),
    "deep nesting": ("PATCH", "tickets/{key}", '{"fields": ' + "[" * 5000 + "]" * 5000 + "}", 400),
    "too long": ("PATCH", "tickets/{key}", json.dumps({"title": "x" * 301}), 422),
    "empty body": ("POST", "tickets/{key}/comments", "", 422),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_bodies_are_refused_clearly_and_change_nothing(agent, ticket, case):
    method, path, body, status = CASES[case]
    before = state()
    response = raw(agent, method, path.format(key=ticket.key), body)
    assert response.status_code == status, response.content
    assert set(response.json()) == ERROR_KEYS and response.json()["message"]
    assert state() == before


def test_unknown_fields_are_named(agent, ticket):
    response = agent.patch(
        f"tickets/{ticket.key}", {"version": version(ticket), "status": "closed", "org": 2}
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"status", "org"}


@pytest.mark.parametrize(
    "field", ["status", "organisation", "created_by", "created_at", "version_id", "is_staff"]
)
def test_mass_assignment_is_refused(world, ticket, field):
    """T13, T75: workflow state and ownership change only through their services."""
    before = state()
    for who in ("alice", "agent"):
        response = Api(getattr(world, who)).patch(
            f"tickets/{ticket.key}", {"version": version(ticket), field: "x"}
        )
        assert response.status_code == 422 and field in response.json()["errors"]
    response = Api(world.alice).post(
        "tickets", {"desk": world.desk.pk, "title": "x", field: world.bob.pk}
    )
    assert response.status_code == 422
    assert state() == before


def test_wrong_content_types_are_415(agent, ticket):
    before = state()
    form = raw(
        agent,
        "POST",
        f"tickets/{ticket.key}/comments",
        "body=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415 and form.json()["kind"] == "unsupported_media_type"
    text = raw(
        agent, "POST", f"tickets/{ticket.key}/comments", '{"body": "x"}', content_type="text/plain"
    )
    assert text.status_code == 415
    assert state() == before


def test_a_huge_body_is_413(agent, ticket, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = raw(
        agent, "POST", f"tickets/{ticket.key}/comments", json.dumps({"body": "x" * 5000})
    )
    assert response.status_code == 413 and response.json()["kind"] == "too_large"
    assert ticket.comments.count() == 0


def test_methods_and_addresses_that_do_not_exist(agent, ticket):
    for method in ("put", "delete", "options", "trace"):
        response = getattr(agent.client, method)(
            f"/api/v1/tickets/{ticket.key}", headers=agent.headers
        )
        assert response.status_code == 405, method
        assert response.json()["kind"] == "method_not_allowed"
    override = agent.client.post(
        f"/api/v1/tickets/{ticket.key}/comments",
        data=json.dumps({"body": "x", "version": version(ticket)}),
        content_type="application/json",
        headers={**agent.headers, "X-HTTP-Method-Override": "DELETE"},
    )
    assert override.status_code == 201  # the header is ignored: it stays a POST
    missing = agent.get("nothing/here")
    assert missing.status_code == 404 and missing.json()["kind"] == "not_found"
    nul = agent.get("tickets?q=a%00b")
    assert nul.status_code == 400 and nul.json()["kind"] == "bad_request"
    assert (missing.json()["code"], nul.json()["code"]) == (
        "api.address.unknown",
        "api.address.invalid_text",
    )


def test_filters_are_an_allowlist(agent, ticket):
    """T74: no ordering or lookups from the client beyond what each list names."""
    for query in (
        "ordering=assignee__password",
        "assignee__password__startswith=pbkdf2",
        "sort=reporter__password",
        "limit=1000000",
        "desk=1 OR 1=1",
        "updated_since=0.5",
        "assignee=1;SELECT pg_sleep(5)",
    ):
        response = agent.get(f"tickets?{query}")
        assert response.status_code == 422, query
    regex = agent.get("tickets?q=" + "(a+)+$.*[" * 20)
    assert regex.status_code == 200 and regex.json()["items"] == []
    sql = agent.get("tickets?q=' OR 1=1--")
    assert sql.status_code == 200 and sql.json()["items"] == []


def test_a_tampered_cursor_is_refused(agent, ticket):
    page = agent.get("tickets?limit=1").json()
    assert page["next_cursor"] is None
    response = agent.get("tickets?cursor=W10:forged:sig")
    assert response.status_code == 422 and "cursor" in response.json()["errors"]


def test_too_many_files_or_form_fields_are_413_not_a_server_error(agent, ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile(f"f{i}.txt", b"x", "text/plain") for i in range(25)]
    url = f"/api/v1/tickets/{ticket.key}/attachments"
    answer = agent.client.post(url, {"files": files}, headers=agent.headers)
    assert answer.status_code == 413 and answer.json()["kind"] == "too_large"
    fields = {f"k{i}": "v" for i in range(1200)}
    answer = agent.client.post(url, fields, headers=agent.headers)
    assert answer.status_code == 413 and answer.json()["kind"] == "too_large"
    assert ticket.attachments.count() == 0


def test_a_time_filter_with_any_offset_is_an_instant_not_a_server_error(agent, ticket):
    for value in (
        "0161-12-01T07:57:57+19:12",
        "2026-11-02T09:00:00+14:00",
        "9999-12-31T23:00:00-12:00",
    ):
        answer = agent.get("tickets", data={"updated_since": value})
        assert answer.status_code in (200, 422), value
    assert agent.get("tickets", data={"updated_since": "0161-12-01T07:57:57+19:12"}).json()["items"]
