"""A database that cannot be reached answers 503 with the code `service.database_unavailable`
and Retry-After, on pages and in the API's error shape; other database faults stay 500s.
(The real thing, a PostgreSQL restart under traffic, is tests/ops/test_reconnect.py.)"""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError
from django.test import Client

from casedesk.common.outage import database_unreachable


def _cut() -> OperationalError:
    """As Django raises it when the server is gone: wrapping psycopg's error."""
    try:
        try:
            raise psycopg.OperationalError("connection failed: Connection refused")
        except psycopg.Error as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as wrapped:
        return wrapped


def _statement_fault() -> OperationalError:
    try:
        try:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        except psycopg.Error as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as wrapped:
        return wrapped


def test_what_counts_as_out_of_reach():
    assert database_unreachable(_cut())
    assert not database_unreachable(_statement_fault())  # a fault of one statement
    assert not database_unreachable(OperationalError("database is locked"))  # SQLite's
    assert not database_unreachable(ValueError("x"))
    assert not database_unreachable(None)


class _Gone:
    def cursor(self):
        raise _cut()


class _Deadlocked:
    def cursor(self):
        raise _statement_fault()


@pytest.fixture
def client():
    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_a_page_says_503_with_the_code_in_the_readers_language(client, monkeypatch):
    monkeypatch.setattr("casedesk.web.views.connection", _Gone())
    answer = client.get("/health")
    assert answer.status_code == 503 and answer["Retry-After"] == "10"
    page = answer.content.decode()
    assert 'data-code="service.database_unavailable"' in page
    assert "Databasen kan ikke nås lige nu" in page and "Traceback" not in page


@pytest.mark.django_db
def test_another_database_fault_is_still_the_500_page(client, monkeypatch):
    monkeypatch.setattr("casedesk.web.views.connection", _Deadlocked())
    answer = client.get("/health")
    assert answer.status_code == 500 and "Retry-After" not in answer


@pytest.mark.django_db
def test_the_api_answers_503_in_its_error_shape(client, monkeypatch):
    def gone(secret):
        raise _cut()

    monkeypatch.setattr("casedesk.api.auth.token_authenticate", gone)
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer cdk_x_y")
    assert answer.status_code == 503 and answer["Retry-After"] == "10"
    body = answer.json()
    assert body["code"] == "service.database_unavailable" and body["kind"] == "unavailable"
    assert body["message"].startswith("Databasen kan ikke nås")
