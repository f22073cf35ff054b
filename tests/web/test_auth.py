"""Logging in, out and back: open redirects (T36), enumeration (T41), session rotation
(T38), cookie attributes (T46), password reset by mail (also over a real SMTP server),
and the language: browser first, then the person's own setting, switched by POST."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.test import Client

from casedesk.accounts.models import User
from casedesk.ops.worker import run_once
from tests.pages import body

REDIRECTS = [
    "//evil.com",
    "https://evil.com",
    "/\\evil.com",
    "\\/\\/evil.com",
    "https:evil.com",
    "%2F%2Fevil.com",
    "javascript:alert(1)",
    "http://app@evil.com",
    "/\t/evil.com",
    " //evil.com",
    "///evil.com",
]


@pytest.mark.parametrize("target", REDIRECTS)
def test_no_open_redirect_after_login_or_language_switch(client, world, target):
    response = client.post(
        f"/login/?next={target}", {"username": "alice", "password": "pw-12345678", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/", response["Location"]
    response = client.post("/language/", {"language": "da", "next": target})
    assert response["Location"] == "/"


def test_language_switch_keeps_a_safe_next(client, world):
    response = client.post("/language/", {"language": "nl", "next": "/portal/?q=x"})
    assert response["Location"] == "/portal/?q=x"


def test_login_failure_does_not_say_which_part_was_wrong(client, world):
    unknown = client.post("/login/", {"username": "nobody", "password": "pw-12345678"})
    wrong = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert unknown.status_code == wrong.status_code == 200
    assert body(unknown).replace(b"nobody", b"alice") == body(wrong)
    assert b"do not match an account" in wrong.content


def _timed(client, data) -> float:
    start = time.perf_counter()
    client.post("/password/reset/", data)
    return time.perf_counter() - start


class SlowRelay(locmem.EmailBackend):
    """A mail server that takes 200 ms a message, as a slow relay does."""

    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)


def test_password_reset_does_not_reveal_accounts(client, world, settings):
    settings.EMAIL_BACKEND = "tests.web.test_auth.SlowRelay"
    known = client.post("/password/reset/", {"email": "alice@example.org"})
    unknown = client.post("/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password/reset/sent/"
    assert known.content == unknown.content
    assert not mail.outbox  # the worker sends it, after the answer
    run_once()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
    # the timing differs by less than 20 ms (median of 40 tries each)
    a = statistics.median(_timed(client, {"email": "alice@example.org"}) for _ in range(40))
    b = statistics.median(_timed(client, {"email": "nobody@example.org"}) for _ in range(40))
    assert abs(a - b) < 0.020, (a, b)


def test_password_reset_by_mail(client, world):
    response = client.post(
        "/password/reset/", {"email": "alice@example.org"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400 and not mail.outbox  # a Host that is not ours
    client.post("/password/reset/", {"email": "alice@example.org"})
    run_once()
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    link = re.search(r"https?://\S+", message.body).group(0)
    assert "evil.example" not in link  # the configured address, never the request's Host
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert b"Choose a new password" in response.content and b"new_password1" in response.content
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else "/" + path
    response = client.post(
        form_url, {"new_password1": "Sturdy-horse-42", "new_password2": "Sturdy-horse-42"}
    )
    assert response.status_code == 302
    assert Client().login(username="alice", password="Sturdy-horse-42")
    assert b"expired" in client.get("/" + path, follow=True).content  # used once only


def test_password_reset_mail_goes_through_a_real_smtp_server(client, world, settings):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        client.post("/password/reset/", {"email": "alice@example.org"})
        run_once()
    finally:
        controller.stop()
    assert len(received) == 1
    assert received[0].rcpt_tos == ["alice@example.org"]
    assert b"/password/reset/" in received[0].content


def test_login_rotates_the_session(client, world):
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen"
    client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert client.cookies["sessionid"].value != "attacker-chosen"
    assert client.get("/portal/").status_code == 200


def test_cookie_attributes(client, world):
    response = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    response = client.post("/language/", {"language": "cs"})
    lang = response.cookies["django_language"]
    assert lang["samesite"] == "Lax" and lang["httponly"]


def test_https_deployments_use_secure_host_only_cookies(tmp_path):
    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "CASEDESK_BASE_URL": "https://desk.example",
        "CASEDESK_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["__Host-casedesk-session", "__Host-casedesk-csrf", "True", "True", "31536000"]


def test_under_https_every_answer_carries_hsts_and_every_language_cookie_is_secure(
    client, world, settings
):
    """As `CASEDESK_BASE_URL=https://...` sets them (checked just above): HSTS on every
    answer, also behind a proxy that ends TLS, and the language cookie Secure and HttpOnly
    on each of the two ways it is set (logging in, and the language menu)."""
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.LANGUAGE_COOKIE_SECURE = True
    for response in (client.get("/login/"), client.get("/health"), client.get("/nowhere/")):
        assert response["Strict-Transport-Security"] == "max-age=31536000"
    User.objects.filter(pk=world.alice.pk).update(language="da")
    logged_in = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    switched = client.post("/language/", {"language": "cs"})
    for response in (logged_in, switched):
        cookie = response.cookies["django_language"]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_plain_http_sends_no_hsts(client, world):
    assert "Strict-Transport-Security" not in client.get("/login/")


def test_language_from_the_browser_then_the_persons_setting(client, world):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="da,en;q=0.5").content.decode()
    assert 'lang="da"' in page and "Log ind" in page
    client.force_login(world.alice)
    page = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert 'lang="da"' in page  # no setting of her own yet: the browser's
    User.objects.filter(pk=world.alice.pk).update(language="sv")
    page = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert 'lang="sv"' in page and "Våra ärenden" in page
    client.post("/language/", {"language": "cs", "next": "/portal/"})
    world.alice.refresh_from_db()
    assert world.alice.language == "cs"
    assert 'lang="cs"' in client.get("/portal/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    client.post("/language/", {"language": "xx"})
    world.alice.refresh_from_db()
    assert world.alice.language == "cs"


def test_the_language_setting_service_refuses_unknown_languages(world):
    from casedesk.accounts.services import user_set_language
    from casedesk.common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        user_set_language(user=world.alice, language="klingon")
    user_set_language(user=world.alice, language="nl")
    world.alice.refresh_from_db()
    assert world.alice.language == "nl"


def test_deactivation_and_role_removal_take_effect_on_the_next_request(client, world, ticket):
    """T18, T39: no permission outlives the request that removed it."""
    client.force_login(world.agent)
    assert client.get(f"/agent/t/{ticket.key}/").status_code == 200
    world.desk.staff.filter(user=world.agent).delete()
    assert client.get(f"/agent/t/{ticket.key}/").status_code == 404
    client.force_login(world.alice)
    assert client.get(f"/portal/t/{ticket.key}/").status_code == 200
    User.objects.filter(pk=world.alice.pk).update(is_active=False)
    response = client.get(f"/portal/t/{ticket.key}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_too_many_files_in_one_request_is_a_clear_400(client, world, ticket):
    """T54: more parts than allowed are refused before anything is stored."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.alice)
    files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(25)]
    response = client.post(f"/portal/t/{ticket.key}/comment/", {"body": "x", "attachments": files})
    assert response.status_code == 400
    assert not ticket.comments.exists()


def test_password_guessing_is_throttled_per_account(client, world, clock):
    """T40: ten guesses per account name in fifteen minutes, counted before the password
    is checked; the same answer whether or not the account exists."""
    for _ in range(10):
        assert client.post("/login/", {"username": "alice", "password": "nope"}).status_code == 200
    refused = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert refused.status_code == 429 and b"Too many attempts" in refused.content
    for _ in range(11):
        ghost = client.post("/login/", {"username": "ghost", "password": "nope"})
    assert ghost.status_code == 429
    assert body(ghost).replace(b'value="ghost"', b'value="alice"') == body(refused)
    assert (
        client.post("/login/", {"username": "amir", "password": "pw-12345678"}).status_code == 302
    )
    clock.advance(minutes=16)
    assert (
        client.post("/login/", {"username": "alice", "password": "pw-12345678"}).status_code == 302
    )


def test_admin_logs_in_through_the_throttled_page(client, world):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 200 and b"id_username" in response.content
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "pw-12345678", "next": "/admin/"},
    )
    assert response["Location"] == "/admin/"


@pytest.mark.postgres
def test_parallel_guesses_get_at_most_the_limit(live_server, world):
    """100 parallel wrong guesses for one account: at most 10 are evaluated."""
    import http.cookiejar
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    codes: list[int] = []

    def guess():
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{live_server.url}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (the live server on loopback)
            f"{live_server.url}/login/", data=data, headers={"Referer": live_server.url}
        )
        try:
            codes.append(opener.open(request).status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 40
    assert codes.count(200) <= 10 and codes.count(429) >= 30, codes


def test_an_office_behind_one_address_can_log_in_all_day(client, world):
    from tests.conftest import make_customer

    for i in range(120):
        make_customer(f"office{i}", world.org_a)
    for i in range(120):
        response = client.post("/login/", {"username": f"office{i}", "password": "pw-12345678"})
        assert response.status_code == 302, i
        client.post("/logout/")


def test_one_address_guessing_many_accounts_is_stopped(client, world):
    for i in range(100):
        client.post("/login/", {"username": f"victim{i}", "password": "guess"})
    response = client.post("/login/", {"username": "alice", "password": "pw-12345678"})
    assert response.status_code == 429


def test_look_alike_spellings_of_a_name_share_its_guess_count(client, world):
    """Full-width and mathematical letters log in as the plain name (Django normalises
    the login form's name), so they count as the plain name too."""
    full_width = "".join(chr(0xFF21 + ord(c) - ord("A")) for c in "ALICE")
    bold = "".join(chr(0x1D41A + ord(c) - ord("a")) for c in "alice")
    spellings = ["alice", full_width, bold, "Alice", " alice "]
    for n in range(10):
        client.post("/login/", {"username": spellings[n % len(spellings)], "password": "nope"})
    for spelling in spellings:
        answer = client.post("/login/", {"username": spelling, "password": "pw-12345678"})
        assert answer.status_code == 429, spelling


def test_a_browser_that_logged_in_before_is_not_locked_out_by_guessers(client, world, clock):
    owner = Client()
    assert (
        owner.post("/login/", {"username": "alice", "password": "pw-12345678"}).status_code == 302
    )
    owner.post("/logout/")
    for _ in range(12):  # someone else guesses Alice's password
        client.post("/login/", {"username": "alice", "password": "nope"})
    for n in range(100):  # and floods the address with random names
        client.post("/login/", {"username": f"victim{n}", "password": "x"})
    assert (
        client.post("/login/", {"username": "alice", "password": "pw-12345678"}).status_code == 429
    )
    assert (
        owner.post("/login/", {"username": "alice", "password": "pw-12345678"}).status_code == 302
    )
    owner.post("/logout/")
    # the known browser is limited too, on its own count
    for _ in range(10):
        owner.post("/login/", {"username": "alice", "password": "nope"})
    assert (
        owner.post("/login/", {"username": "alice", "password": "pw-12345678"}).status_code == 429
    )
    # a cookie forged or copied to another name proves nothing
    stranger = Client()
    stranger.cookies["casedesk_known"] = owner.cookies["casedesk_known"].value + "x"
    assert stranger.post("/login/", {"username": "alice", "password": "x"}).status_code == 429


def test_password_reset_is_limited_per_address_and_per_client(client, world, clock):
    for _ in range(15):
        answer = client.post("/password/reset/", {"email": "alice@example.org"})
        assert answer.status_code == 302 and answer["Location"] == "/password/reset/sent/"
    run_once()
    assert len(mail.outbox) == 3  # three an hour to one mailbox, the same answer after
    for n in range(30):
        client.post("/password/reset/", {"email": f"someone{n}@example.org"})
    from casedesk.jobs.models import WindowCount

    assert WindowCount.objects.get(key="reset:ip:127.0.0.1").count == 45
    client.post("/password/reset/", {"email": "amir@example.org"})  # a real one, too late
    run_once()
    assert len(mail.outbox) == 3
    clock.advance(hours=1)
    client.post("/password/reset/", {"email": "alice@example.org"})
    run_once()
    assert len(mail.outbox) == 4
