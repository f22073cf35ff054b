"""The basics: health, the start page, logging in and out, headers."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_home_sends_each_side_to_its_start(client, world):
    client.force_login(world.alice)
    assert client.get("/")["Location"] == "/portal/"
    client.force_login(world.agent)
    assert client.get("/")["Location"] == "/agent/"


def test_login_and_logout(client, world):
    response = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/portal/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out changes state: POST only
    client.post("/logout/")
    assert client.get("/portal/").status_code == 302


def test_security_headers(client, world):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_ticket_address_in_mail_opens_the_right_side(client, world):
    from casedesk.tickets import services

    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="Mail link")
    client.force_login(world.amir)
    assert client.get(f"/tickets/{ticket.key}/")["Location"] == f"/portal/t/{ticket.key}/"
    client.force_login(world.agent)
    assert client.get(f"/tickets/{ticket.key.lower()}/")["Location"] == f"/agent/t/{ticket.key}/"
    client.force_login(world.bob)
    assert client.get(f"/tickets/{ticket.key}/").status_code == 404
