"""The minimal web face: it runs, it asks who you are, and shows only what you may see."""

from __future__ import annotations

import pytest

from casedesk.tickets import services


@pytest.mark.django_db
def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_home_lists_only_visible_tickets(client, world):
    mine = services.ticket_create(actor=world.alice, desk=world.desk, title="Alice's printer")
    theirs = services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-bob")
    client.force_login(world.amir)
    page = client.get("/").content.decode()
    assert mine.key in page and "Waiting for support" in page
    assert theirs.key not in page and "CANARY-bob" not in page
    client.force_login(world.agent)
    page = client.get("/").content.decode()
    assert mine.key in page and theirs.key in page


def test_login_and_logout(client, world):
    response = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out changes state: POST only
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_security_headers(client, world):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
