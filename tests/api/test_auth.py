"""Tokens, sessions and rate limits (SECURITY-TESTS E: T39, T40, T44; D: T32, T34)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from casedesk.api.models import ApiToken
from casedesk.api.ratelimit import token_key
from casedesk.api.tokens import token_authenticate, token_create, token_revoke
from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.desks.models import StaffMembership
from casedesk.jobs.models import WindowCount
from casedesk.tickets.models import Ticket
from tests.helpers import version

from .conftest import Api


def test_a_token_is_stored_only_as_a_digest_and_shown_once(world):
    token, secret = token_create(actor=world.alice, user=world.alice, name="ci", scope="read")
    assert secret.startswith(f"cdk_{token.prefix}_") and len(secret) > 50
    stored = ApiToken.objects.get()
    assert secret not in repr(stored.__dict__)
    assert stored.digest != secret and len(stored.digest) == 64
    assert token_authenticate(secret) == token
    assert token_authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_only_administrators_make_tokens_for_others(world):
    with pytest.raises(Forbidden):
        token_create(actor=world.alice, user=world.amir, name="x", scope="read")
    token, _ = token_create(actor=world.admin, user=world.amir, name="x", scope="write")
    assert token.created_by == world.admin
    with pytest.raises(InvalidInput) as err:
        token_create(actor=world.alice, user=world.alice, name="", scope="admin")
    assert set(err.value.errors) == {"name", "scope"}


def test_revoking_expiry_and_deactivation_take_effect_on_the_next_request(world, clock):
    api = Api(world.alice, "read")
    assert api.get("me").status_code == 200
    token = ApiToken.objects.get(user=world.alice)
    with pytest.raises(NotFound):  # someone else's token is not there for them
        token_revoke(actor=world.amir, token_id=token.pk)
    token_revoke(actor=world.alice, token_id=token.pk)
    revoked = api.get("me")
    assert revoked.status_code == 401 and revoked.json()["kind"] == "unauthorized"

    expiring = Api(world.alice, "read")
    clock.advance(days=91)
    assert expiring.get("me").status_code == 401

    clock.advance(days=-91)
    later = Api(world.amir, "read")
    assert later.get("me").status_code == 200
    world.amir.is_active = False
    world.amir.save()
    assert later.get("me").status_code == 401


def test_a_role_removed_stops_the_token_at_the_next_request(world, ticket):
    api = Api(world.agent)
    assert api.get(f"tickets/{ticket.key}").status_code == 200
    StaffMembership.objects.filter(user=world.agent).delete()
    assert api.get(f"tickets/{ticket.key}").status_code == 404


def test_a_read_token_cannot_write(world, ticket):
    api = Api(world.alice, "read")
    refused = api.post(f"tickets/{ticket.key}/comments", {"version": version(ticket), "body": "hi"})
    assert refused.status_code == 403 and "only read" in refused.json()["message"]
    assert ticket.comments.count() == 0


def test_tokens_only_in_the_header(world):
    api = Api(world.alice)
    anonymous = Client()
    for name in ("token", "access_token", "api_key"):
        response = anonymous.get(f"/api/v1/me?{name}={api.secret}")
        assert response.status_code == 400 and "header" in response.json()["message"]
    # and a bad header is a 401 even if a session would let the caller in
    session = Client()
    session.force_login(world.alice)
    response = session.get("/api/v1/me", headers={"Authorization": "Bearer cdk_nope"})
    assert response.status_code == 401
    response = session.get("/api/v1/me", headers={"Authorization": f"Basic {api.secret}"})
    assert response.status_code == 401


def test_other_peoples_tokens_are_never_shown(world, client):
    _, secret = token_create(actor=world.amir, user=world.amir, name="amir's", scope="read")
    client.force_login(world.alice)
    page = client.get("/account/tokens/").content.decode()
    assert "amir&#x27;s" not in page and secret[:16] not in page


def test_sessions_need_the_csrf_token_for_changes(world, ticket):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.alice)
    assert browser.get(f"/api/v1/tickets/{ticket.key}").status_code == 200
    url = f"/api/v1/tickets/{ticket.key}/comments"
    body = '{"body": "hi", "version": 1}'
    without = browser.post(url, body, content_type="application/json")
    assert without.status_code == 403 and "CSRF" in without.json()["message"]
    wrong = browser.post(
        url, body, content_type="application/json", headers={"X-CSRFToken": "x" * 64}
    )
    assert wrong.status_code == 403
    browser.get("/login/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    in_query = browser.post(
        f"{url}?csrfmiddlewaretoken={token}", body, content_type="application/json"
    )
    # not a header, and not a parameter of the operation: refused before anything is read
    assert in_query.status_code == 422
    assert list(in_query.json()["errors"]) == ["csrfmiddlewaretoken"]
    assert ticket.comments.count() == 0
    ok = browser.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_the_rate_limit_answers_429_with_retry_after(world, clock, settings):
    settings.CASEDESK_API_RATE_LIMIT = 3
    clock.set(clock().replace(second=15))
    api = Api(world.alice, "read")
    assert [api.get("me").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("me")
    assert limited.status_code == 429 and limited["Retry-After"] == "45"
    assert limited.json()["kind"] == "rate_limited"
    other = Api(world.amir, "read")  # each token has its own budget
    assert other.get("me").status_code == 200
    clock.advance(seconds=45)
    assert api.get("me").status_code == 200
    token = ApiToken.objects.get(user=world.alice)
    assert token.last_used_at == clock()
    assert WindowCount.objects.filter(key=token_key(token)).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_across_concurrent_processes(world, clock, settings):
    """Many requests at once (threads with their own database connections, as separate
    web processes would have): exactly the limit gets through."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    settings.CASEDESK_API_RATE_LIMIT = 10
    _, secret = token_create(actor=world.alice, user=world.alice, name="x", scope="read")

    def call(_):
        try:
            return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        results = [r.status_code for r in pool.map(call, range(30))]
    assert results.count(200) == 10 and results.count(429) == 20


def test_deactivated_people_lose_their_sessions_too(world, ticket):
    browser = Client()
    browser.force_login(world.alice)
    assert browser.get(f"/api/v1/tickets/{ticket.key}").status_code == 200
    world.alice.is_active = False
    world.alice.save()
    assert browser.get(f"/api/v1/tickets/{ticket.key}").status_code == 401
    assert Ticket.objects.count() == 1


def test_a_password_reset_or_a_deactivation_revokes_every_token_and_session(world, ticket):
    """Revoked for good: giving the account back its old state does not revive them."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    api, browser = Api(world.alice, "read"), Client()
    browser.force_login(world.alice)
    assert api.get("me").status_code == 200 and browser.get("/portal/").status_code == 200
    uid = urlsafe_base64_encode(force_bytes(world.alice.pk))
    link = f"/password/reset/{uid}/{default_token_generator.make_token(world.alice)}/"
    reset = Client()
    form = reset.get(link, follow=True)
    new = {"new_password1": "a-new-secret-4711", "new_password2": "a-new-secret-4711"}
    assert reset.post(form.redirect_chain[-1][0], new).status_code == 302
    assert api.get("me").status_code == 401
    assert browser.get("/portal/").status_code == 302  # to the login page
    assert not ApiToken.objects.filter(user=world.alice, revoked_at__isnull=True).exists()

    later = Api(world.amir, "read")
    world.amir.is_active = False
    world.amir.save()
    world.amir.is_active = True
    world.amir.save()
    assert later.get("me").status_code == 401
    # logging in (which saves last_login) leaves a fresh token alone
    fresh_token = Api(world.amir, "read")
    Client().login(username="amir", password="pw-12345678")
    assert fresh_token.get("me").status_code == 200


def test_the_token_pages_make_show_once_and_revoke(world, client, clock):
    client.force_login(world.alice)
    made = client.post("/account/tokens/", {"name": "backup", "scope": "write", "days": "30"})
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    page = made.content.decode()
    start = page.index(f"cdk_{token.prefix}_")
    secret = page[start : start + len(f"cdk_{token.prefix}_") + 43]
    assert token_authenticate(secret) == token
    assert token.expires_at == clock() + timedelta(days=30)
    assert secret not in client.get("/account/tokens/").content.decode()
    assert client.get(f"/account/tokens/{token.pk}/revoke").status_code == 405
    client.force_login(world.amir)
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 404
    client.force_login(world.alice)
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 302
    assert token_authenticate(secret) is None
    bad = client.post("/account/tokens/", {"name": "", "scope": "root", "days": "5"})
    assert bad.status_code == 400 and ApiToken.objects.count() == 1


def test_administrators_make_and_revoke_tokens_in_the_admin(world, client):
    client.force_login(world.admin)
    made = client.post(
        "/admin/api/apitoken/add/",
        {"user": world.bob.pk, "name": "integration", "scope": "read", "days": "10"},
    )
    assert made.status_code == 200, made.content[:500]
    token = ApiToken.objects.get()
    assert token.user == world.bob and token.created_by == world.admin
    assert f"cdk_{token.prefix}_" in made.content.decode()
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get(f"/admin/api/apitoken/{token.pk}/change/").status_code == 200


def test_guessing_tokens_from_one_address_is_stopped(world, clock, settings):
    """T40: bad tokens are counted per address; past the limit the address's guesses are
    answered with a wait. The same answer for every bad token; a valid token from that
    address still works, so a guesser cannot lock out the people who share it."""
    settings.CASEDESK_API_AUTH_FAILURE_LIMIT = 5
    clock.set(clock().replace(second=50))
    good = Api(world.alice, "read")
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    answers = [
        guesser.get("/api/v1/me", headers={"Authorization": f"Bearer cdk_{n:012d}_{'x' * 43}"})
        for n in range(7)
    ]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
    assert len({a.content for a in answers[:5]}) == 1
    assert answers[-1]["Retry-After"] == "10"
    assert guesser.get("/api/v1/me", headers=good.headers).status_code == 200
    assert good.get("me").status_code == 200
    clock.advance(seconds=10)
    bad = {"Authorization": f"Bearer cdk_{1:012d}_{'y' * 43}"}
    assert guesser.get("/api/v1/me", headers=bad).status_code == 401  # a new window


def test_behind_a_trusted_proxy_each_client_is_counted_alone(world, clock, settings):
    settings.CASEDESK_API_AUTH_FAILURE_LIMIT = 3
    settings.CASEDESK_TRUSTED_PROXIES = ["10.0.0.0/8"]
    clock.set(clock().replace(second=5))
    proxy = Client(REMOTE_ADDR="10.1.2.3")
    bad = {"Authorization": f"Bearer cdk_{7:012d}_{'x' * 43}"}

    def call(client_ip: str, forged: str = "") -> int:
        chain = f"{forged}, {client_ip}" if forged else client_ip
        return proxy.get("/api/v1/me", headers=bad, HTTP_X_FORWARDED_FOR=chain).status_code

    # the guesser writes a different address into the header each time: the proxy's own
    # entry (the last one) is what counts, so the forgery buys nothing
    assert [call("203.0.113.9", forged=f"192.0.2.{n}") for n in range(5)] == [401] * 3 + [429] * 2
    assert call("203.0.113.77") == 401  # another client behind the same proxy
    # without the setting, the header is not believed: everyone is the proxy
    settings.CASEDESK_TRUSTED_PROXIES = []
    assert [call(f"203.0.113.{n}") for n in range(3, 7)] == [401] * 3 + [429]
