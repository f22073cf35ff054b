"""The session and the person of each request, read from kept statements
(casedesk/accounts/signin.py): the same answers as Django's own backend and store, and
every change to the person or their session counts from the next request on."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.models import Session
from django.utils import timezone

from casedesk.accounts.models import User


def _page(client) -> str:
    return client.get("/portal/").content.decode()


def test_a_session_begun_with_djangos_own_backend_stays_signed_in(client, world):
    client.force_login(world.alice, backend="django.contrib.auth.backends.ModelBackend")
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/portal/").status_code == 200


def test_logging_in_uses_the_kept_reads(client, world):
    response = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "casedesk.accounts.signin.AccountBackend"
    assert "Org A" in _page(client)


def test_a_wrong_password_is_checked_once(client, world, monkeypatch):
    checked, failed = [], []
    original = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda self, raw: checked.append(raw) or original(self, raw)
    )

    def note(**kwargs):
        failed.append(kwargs)

    user_login_failed.connect(note)
    try:
        response = client.post("/login/", {"username": "alice", "password": "wrong"})
    finally:
        user_login_failed.disconnect(note)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert checked == ["wrong"] and len(failed) == 1


def test_changes_to_the_person_count_from_the_next_request(client, world):
    client.force_login(world.alice)
    assert "Org A" in _page(client)
    world.org_a.name = "Org A Renamed"
    world.org_a.save()
    assert "Org A Renamed" in _page(client)
    User.objects.filter(pk=world.alice.pk).update(first_name="Alicia", last_name="Lind")
    assert "Alicia Lind" in _page(client)
    world.alice.refresh_from_db()
    world.alice.set_password("another-pw-123")
    world.alice.save()
    assert client.get("/portal/").status_code == 302  # the old session's hash no longer fits


def test_an_expired_or_deleted_session_signs_nobody_in(client, world):
    client.force_login(world.alice)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert client.get("/portal/").status_code == 302
    client.force_login(world.bob)
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/portal/").status_code == 302


def test_each_session_is_its_own_person(world, client):
    from django.test import Client

    other = Client()
    client.force_login(world.alice)
    other.force_login(world.bob)
    assert "Org A" in _page(client) and "Org B" in _page(other)
    assert "Org B" not in _page(client) and "Org A" not in _page(other)
