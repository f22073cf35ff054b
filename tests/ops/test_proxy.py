"""Behind a TLS-terminating reverse proxy: Debian's nginx ends TLS on loopback with a
certificate made here and passes requests to `casedesk serve`, configured only from the
environment (README "Behind a reverse proxy"). A real browser logs in, opens a ticket
with a file and posts a comment, all over https."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.installation import NGINX, Installation, free_port, start_nginx, wait_for
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which(NGINX) is None,
    reason="needs Chromium and nginx (apt-get install chromium nginx; .ci/run does this)",
)


@pytest.fixture
def behind_nginx(tmp_path):
    port, upstream = free_port(), free_port()
    installation = Installation(
        tmp_path / "data",
        CASEDESK_BASE_URL=f"https://127.0.0.1:{port}",
        CASEDESK_PROXY_SSL_HEADER="X-Forwarded-Proto",
        CASEDESK_ALLOWED_HOSTS="127.0.0.1",
    )
    installation.run("manage", "migrate", "-v0")
    installation.run("demo")
    server = installation.start("serve", "--port", str(upstream), "--processes", "2")
    nginx = None
    try:
        wait_for(f"http://127.0.0.1:{upstream}/health", server, timeout=180)
        nginx = start_nginx(tmp_path / "nginx", port=port, upstream=upstream)
        yield f"https://127.0.0.1:{port}", upstream
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        installation.stop_all()


def test_login_form_post_and_upload_through_an_https_proxy(behind_nginx):
    base, upstream = behind_nginx
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(ignore_https_errors=True, locale="en-GB")
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.fill("#id_username", "acme.member")
        page.fill("#id_password", "casedesk-demo")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(f"{base}/portal/"), page.content()[:2000]
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["__Host-casedesk-session"]
        assert session["secure"] and session["httpOnly"]

        page.goto(f"{base}/portal/new/")
        desk = page.locator("#desk-choice option", has_text="General support").get_attribute(
            "value"
        )
        page.goto(f"{base}/portal/new/?desk={desk}")
        page.fill("#id_title", "Exports fail behind the proxy")
        page.fill("#id_description", "Sent through nginx.")
        data = b"".join(b"%06d export failed: timeout\n" % n for n in range(10_000))
        page.set_input_files(
            "#id_attachments",
            files=[{"name": "trace.log", "mimeType": "text/plain", "buffer": data}],
        )
        page.get_by_role("button", name="Send the ticket").click()
        page.wait_for_load_state("networkidle")
        key = page.locator("#ticket-key").inner_text()

        page.goto(f"{base}/portal/t/{key}/")
        page.fill("#id_body", "One more detail, posted over https.")
        page.get_by_role("button", name="Send comment").click()
        page.wait_for_load_state("networkidle")
        assert "One more detail, posted over https." in page.content()
        link = page.locator("a", has_text="trace.log").first.get_attribute("href")
        download = context.request.get(f"{base}{link}")
        assert download.status == 200 and download.body() == data
        # the session made over https is bound to it: a plain request is sent to https
        plain = context.request.get(
            f"http://127.0.0.1:{upstream}/portal/", max_redirects=0, fail_on_status_code=False
        )
        assert plain.status == 301 and plain.headers["location"].startswith("https://")
        browser.close()


def test_proxy_settings_come_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "import json; print(json.dumps([s.SECURE_PROXY_SSL_HEADER, s.CSRF_TRUSTED_ORIGINS,"
        " s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT]))"
    )
    installation = Installation(
        tmp_path,
        DJANGO_SETTINGS_MODULE="casedesk.settings",
        CASEDESK_BASE_URL="https://desk.example.com:8443/",
        CASEDESK_PROXY_SSL_HEADER="X-Forwarded-Proto",
        CASEDESK_CSRF_TRUSTED_ORIGINS="https://portal.example.com, https://other.example.com/",
        CASEDESK_ALLOWED_HOSTS="portal.example.com",
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=installation.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == [
        ["HTTP_X_FORWARDED_PROTO", "https"],
        [
            "https://desk.example.com:8443",
            "https://portal.example.com",
            "https://other.example.com",
        ],
        ["portal.example.com"],  # a list given is taken as it is
        True,
    ]
