"""XSS and HTML injection (T21-T26, T29) in every sink of the pages, checked on the DOM
with html5lib: no script but our own, no event handlers, no dangerous URLs, no base, meta
refresh, iframe or form that came from user data. Uploads through the web forms (T47-T53)."""

from __future__ import annotations

import html5lib
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.accounts.models import Organisation, User
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import Attachment, Ticket
from tests.helpers import version
from tests.pages import body

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="javascript:alert(1)">x</a>',
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](jav&#x09;ascript:alert(1))",
    "[a][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<form action="https://evil.example"><input name=x></form>',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "{{ 7*7 }}{% debug %}",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "\u2028</script><script>alert(1)</script>",
    "<object data=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
OUR_FORMS = ("/", "")  # every form we draw posts to one of our own paths


def check_dom(html: str, where: str) -> None:
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    for el in doc.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        attrs = dict(el.attrib)
        for name, value in attrs.items():
            assert not name.lower().startswith("on"), (where, tag, name, value)
            if name.lower() in ("href", "src", "action", "data", "formaction", "srcdoc"):
                v = value.strip().lower().replace("\t", "").replace("\n", "")
                assert not v.startswith(("javascript:", "data:text", "vbscript:")), (where, tag, v)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), (where, attrs, el.text)
            assert not (el.text or "").strip(), where
        assert tag not in ("iframe", "object", "embed", "base", "style"), (where, tag)
        if tag == "meta":
            assert "http-equiv" not in attrs, (where, attrs)
        if tag == "form":
            action = attrs.get("action", "")
            assert action.startswith(OUR_FORMS) and not action.startswith("//"), (where, action)
        if tag == "a" and attrs.get("href", "").startswith("http"):
            assert "noopener" in attrs.get("rel", ""), (where, attrs)


@pytest.fixture
def poisoned(world):
    """Every payload planted in every sink a customer or agent controls."""
    tickets = []
    world.org_a.name = PAYLOADS[1]
    world.org_a.save()
    world.desk.name = PAYLOADS[0]
    world.desk.save()
    for i, payload in enumerate(PAYLOADS):
        user = User.objects.create_user(
            f"x{i}",
            f"x{i}@example.org",
            "pw",
            kind="customer",
            organisation=world.org_a,
            customer_role="member",
            first_name=payload[:150],
        )
        ticket = services.ticket_create(
            actor=user,
            desk=world.desk,
            title=payload[:300],
            description=payload,
            attachments=[BytesUpload(f"{payload[:60]}.txt", b"hello")],
        )
        services.comment_add(actor=user, ticket=ticket, body=payload)
        services.comment_add(actor=world.agent, ticket=ticket, body=payload, internal=True)
        tickets.append(ticket)
    return tickets


def test_no_payload_survives_in_any_page(client, world, poisoned):
    pages = []
    for who in (world.alice, world.agent):
        client.force_login(who)
        side = "portal" if who.is_customer else "agent"
        pages.append((f"{side} list", f"/{side}/?state=any&queue=all"))
        for t in poisoned:
            pages.append((f"{side} {t.key}", f"/{side}/t/{t.key}/"))
        for label, url in pages[-len(poisoned) - 1 :]:
            response = client.get(url)
            assert response.status_code == 200, url
            check_dom(response.content.decode(), label)
        response = client.post(
            "/agent/bulk/" if side == "agent" else "/portal/new/",
            {
                "keys": [t.key for t in poisoned],
                "op": "transition",
                "transition": "x",
                "desk": world.desk.pk,
                "title": "",
                "description": PAYLOADS[15],
            },
        )
        check_dom(response.content.decode(), f"{side} form errors")


@pytest.mark.parametrize("param", ["q", "sort", "state", "scope", "cursor", "queue", "status"])
def test_reflected_parameters_are_escaped(client, world, param):
    client.force_login(world.alice)
    for payload in PAYLOADS[:4]:
        response = client.get("/portal/", {param: payload})
        check_dom(response.content.decode(), f"portal ?{param}")
    client.force_login(world.agent)
    response = client.get("/agent/", {param: PAYLOADS[1], "desk": world.desk.pk})
    check_dom(response.content.decode(), f"agent ?{param}")
    response = client.get("/no/such/page/" + "%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 404
    check_dom(response.content.decode(), "404")


REFUSED = [
    "x.html",
    "x.svg",
    "x.xhtml",
    "x.js",
    "x.php",
    "x.exe",
    "x.png.html",
    "X.HTML",
    "x.png\x00.html",
    "x",
    ".htaccess",
]


@pytest.mark.parametrize("name", REFUSED)
def test_uploads_of_refused_types_through_both_forms(client, world, ticket, name):
    client.force_login(world.alice)
    upload = SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>")
    response = client.post(
        f"/portal/t/{ticket.key}/comment/",
        {"version": version(ticket), "body": "x", "attachments": [upload]},
    )
    assert response.status_code == 422
    client.force_login(world.agent)
    upload = SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>")
    response = client.post(
        f"/agent/t/{ticket.key}/reply/",
        {"version": version(ticket), "body": "x", "attachments": [upload]},
    )
    assert response.status_code == 422
    assert not Attachment.objects.exists()


def test_size_cap_one_byte_over(client, world, ticket, settings):
    settings.CASEDESK_MAX_ATTACHMENT_BYTES = 1024
    client.force_login(world.alice)
    ok = SimpleUploadedFile("ok.txt", b"a" * 1024)
    over = SimpleUploadedFile("big.txt", b"a" * 1025)
    response = client.post(
        f"/portal/t/{ticket.key}/comment/",
        {"version": version(ticket), "body": "x", "attachments": [over]},
    )
    assert response.status_code == 422 and b"larger than the limit" in response.content
    response = client.post(
        f"/portal/t/{ticket.key}/comment/",
        {"version": version(ticket), "body": "x", "attachments": [ok]},
    )
    assert response.status_code == 302
    assert Attachment.objects.count() == 1


def test_downloads_are_safe_and_private(client, world, ticket):
    hostile = '"\r\nSet-Cookie: x=1; résumé.txt'
    services.attachment_add(
        actor=world.alice, ticket=ticket, uploads=[BytesUpload(hostile, b"<b>not html</b>")]
    )
    att = Attachment.objects.get()
    client.force_login(world.amir)
    response = client.get(f"/files/{att.pk}/?view=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert (
        "\r" not in response["Content-Disposition"] and "\n" not in response["Content-Disposition"]
    )
    assert response["Content-Type"] == "text/plain"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "Set-Cookie" not in response or "x=1" not in response.get("Set-Cookie", "")
    client.force_login(world.bob)
    foreign = client.get(f"/files/{att.pk}/")
    missing = client.get(f"/files/{att.pk + 100}/")
    assert foreign.status_code == missing.status_code == 404
    assert body(foreign) == body(missing)


def test_internal_files_never_reach_customers(client, world, ticket):
    services.comment_add(
        actor=world.agent,
        ticket=ticket,
        body="n",
        internal=True,
        attachments=[BytesUpload("CANARY-internal.txt", b"secret")],
    )
    att = Attachment.objects.get()
    client.force_login(world.alice)
    assert client.get(f"/files/{att.pk}/").status_code == 404
    assert b"CANARY-internal" not in client.get(f"/portal/t/{ticket.key}/").content
    assert Ticket.objects.get().pk == ticket.pk
    assert Organisation.objects.count() == 2
