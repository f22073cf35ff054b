"""Route inventory with default deny (T1, T2), CSRF (T32), no writes on GET (T33), framing
and CSP on every page (T37): generated from the URLconf, so a new route without a policy
entry fails here."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import Comment, Ticket, TicketEvent
from tests.pages import body

# Every named route and who may reach it; "public" routes answer anonymous visitors.
POLICY = {
    "home": "login",
    "health": "public",
    "ready": "public",
    "metrics": "token",  # a 404 without CASEDESK_METRICS_TOKEN (tests/ops/test_production.py)
    "login": "public",
    "admin_login": "public",
    "logout": "post-only",
    "language": "public-post",
    "time-zone": "login",
    "password_reset": "public",
    "password_reset_sent": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "attachment": "login",
    "ticket": "login",
    "sheet-print": "login",
    "sheet-pdf": "login",
    "mail-preferences": "login",
    "mail-problems": "staff",
    "mail-problem-act": "staff-post",
    "api-tokens": "login",
    "api-token-revoke": "login-post",
    "portal:tickets": "customer",
    "portal:create": "customer",
    "portal:created": "customer",
    "portal:ticket": "customer",
    "portal:comment": "customer-post",
    "portal:act": "customer-post",
    "portal:estimate_grant": "customer-post",
    "portal:quote_answer": "customer-post",
    "portal:guides": "login",
    "portal:guide": "login",
    "portal:updates_desks": "customer",
    "portal:updates": "customer",
    "portal:ask_update": "customer-post",
    "portal:whats_new": "customer",
    "agent:queues": "staff",
    "agent:bulk": "staff-post",
    "agent:register": "staff",
    "agent:desks": "staff",
    "agent:workflow": "staff",
    "agent:releases": "staff",
    "agent:release": "staff",
    "agent:fix": "staff",
    "agent:ticket": "staff",
    "agent:reply": "staff-post",
    "agent:act": "staff-post",
    "agent:assign": "staff-post",
    "agent:contact": "staff-post",
    "agent:route": "staff-post",
    "agent:duplicate": "staff-post",
    "agent:edit": "staff-post",
    "agent:mail": "staff-post",
    "agent:log": "staff-post",
    "agent:estimate": "staff-post",
    "agent:quote": "staff-post",
    "agent:quote_answer": "staff-post",
}


def _routes(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            # The admin has its own permissions; the REST API has its own inventory and
            # matrix (tests/api/test_matrix.py: every operation, six kinds of caller).
            if p.namespace in ("admin", "api-v1"):
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _routes(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}", prefix + str(p.pattern)


def _url(pattern: str, key: str, attachment: int, desk: int) -> str:
    values = {
        "<str:key>": key,
        "<int:attachment_id>": str(attachment),
        "<int:token_id>": "1",
        "<int:desk_id>": str(desk),
        "<slug:transition>": "cancel",
        "<uidb64>": "MQ",
        "<token>": "set-password",
        "<str:kind>": "out",
        "<int:mail_id>": "1",
        "<str:action>": "retry",
        "<str:version>": "1.0",
        "<int:cycle>": "1",
        "<int:number>": "1",
        "<str:move>": "accept",
    }
    for token, value in values.items():
        pattern = pattern.replace(token, value)
    return "/" + pattern


def test_every_route_has_a_policy():
    names = {name for name, _ in _routes()}
    assert names == set(POLICY), f"routes without a policy: {names - set(POLICY)}"


@pytest.fixture
def foreign(world):
    """A ticket with a file and a comment, of organisation B only."""
    ticket = services.ticket_create(
        actor=world.bob,
        desk=world.desk,
        title="CANARY-title-B",
        description="CANARY-description-B",
        attachments=[BytesUpload("CANARY-file-B.txt", b"CANARY-bytes")],
    )
    services.comment_add(actor=world.bob, ticket=ticket, body="CANARY-comment-B")
    return ticket


def _state():
    return (
        Ticket.objects.count(),
        Comment.objects.count(),
        TicketEvent.objects.count(),
        list(Ticket.objects.values_list("version", flat=True)),
    )


# What an anonymous visitor gets from each route, for a GET and for a POST: a status code,
# or LOGIN: a redirect to exactly /login/?next=<the path asked for, with its query>.
# Pages behind a login send there before anything else; most actions that take only a
# POST refuse a GET first (405), the two older ones send a GET to the login too.
LOGIN = "login"
ANONYMOUS = {
    "home": (LOGIN, 405),
    "health": (200, 405),
    "ready": (503, 405),  # no worker was seen
    "metrics": (404, 405),
    "login": (200, 200),  # the form again, with its errors
    "admin_login": (200, 200),
    "logout": (405, ("/login/",)),
    "language": (405, ("/",)),
    "time-zone": (LOGIN, LOGIN),
    "password_reset": (200, 200),
    "password_reset_sent": (200, 405),
    "password_reset_confirm": (200, 200),
    "password_reset_complete": (200, 405),
    "attachment": (LOGIN, 405),
    "ticket": (LOGIN, 405),
    "sheet-print": (LOGIN, 405),
    "sheet-pdf": (LOGIN, 405),
    "mail-preferences": (LOGIN, LOGIN),
    "mail-problems": (LOGIN, LOGIN),
    "mail-problem-act": (LOGIN, LOGIN),
    "api-tokens": (LOGIN, LOGIN),
    "api-token-revoke": (LOGIN, LOGIN),
    "portal:tickets": (LOGIN, 405),
    "portal:create": (LOGIN, LOGIN),
    "portal:created": (LOGIN, 405),
    "portal:ticket": (LOGIN, 405),
    "portal:comment": (405, LOGIN),
    "portal:act": (405, LOGIN),
    "portal:estimate_grant": (405, LOGIN),
    "portal:quote_answer": (405, LOGIN),
    "portal:guides": (LOGIN, 405),
    "portal:guide": (LOGIN, 405),
    "portal:updates_desks": (LOGIN, 405),
    "portal:updates": (LOGIN, 405),
    "portal:ask_update": (405, LOGIN),
    "portal:whats_new": (LOGIN, 405),
    "agent:queues": (LOGIN, 405),
    "agent:bulk": (405, LOGIN),
    "agent:register": (LOGIN, LOGIN),
    "agent:desks": (LOGIN, 405),
    "agent:workflow": (LOGIN, 405),
    "agent:releases": (LOGIN, 405),
    "agent:release": (LOGIN, 405),
    "agent:fix": (LOGIN, LOGIN),
    "agent:ticket": (LOGIN, 405),
    "agent:reply": (405, LOGIN),
    "agent:act": (405, LOGIN),
    "agent:assign": (405, LOGIN),
    "agent:contact": (405, LOGIN),
    "agent:route": (405, LOGIN),
    "agent:duplicate": (405, LOGIN),
    "agent:log": (405, LOGIN),
    "agent:estimate": (405, LOGIN),
    "agent:quote": (405, LOGIN),
    "agent:quote_answer": (405, LOGIN),
    "agent:edit": (405, LOGIN),
    "agent:mail": (405, LOGIN),
}


def _outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        return (location,) if not location.startswith("/login/?") else location
    return response.status_code


def _expected(expected, path: str):
    return f"/login/?next={quote(path, safe='/')}" if expected == LOGIN else expected


def test_every_route_has_an_outcome_for_anonymous_visitors():
    assert set(ANONYMOUS) == set(POLICY)
    for name, (get, post) in ANONYMOUS.items():
        # only public routes answer anonymous visitors; the others send them to the login
        # or refuse the method
        if not POLICY[name].startswith("public"):
            assert 200 not in (get, post), name


def test_anonymous_gets_the_login_page_everywhere_else(client, world, foreign):
    attachment = foreign.attachments.get().pk
    before = _state()
    for name, pattern in _routes():
        url = _url(pattern, foreign.key, attachment, world.desk.pk)
        get, post = ANONYMOUS[name]
        for path in (url, url + "?x=1"):
            response = client.get(path)
            assert _outcome(response) == _expected(get, path), (name, path)
            assert b"CANARY" not in response.content, name
        if url.upper() != url and "GEN" not in url:
            assert client.get(url.upper()).status_code == 404, name  # paths are exact
        response = client.post(url, {"body": "x", "comment": "x", "title": "x"})
        assert _outcome(response) == _expected(post, url), (name, "post")
        assert b"CANARY" not in response.content, name
    assert _state() == before


@pytest.mark.parametrize("who", ["alice", "outsider", "amir"])
def test_foreign_objects_are_404_with_the_same_body_and_no_write(client, world, foreign, who):
    """T1: a customer of another organisation, staff of another desk, and a colleague of
    nobody there, on every object route of organisation B's ticket."""
    client.force_login(getattr(world, who))
    attachment = foreign.attachments.get().pk
    missing_ticket = client.get("/portal/t/GEN-999/" if who != "outsider" else "/agent/t/GEN-999/")
    before = _state()
    for name, pattern in _routes():
        if "<str:key>" not in pattern and "<int:attachment_id>" not in pattern:
            continue
        for key, att in ((foreign.key, attachment), (foreign.key.lower(), attachment + 1000)):
            url = _url(pattern, key, att, world.desk.pk)
            for method in ("get", "post"):
                response = getattr(client, method)(url, {"body": "x", "comment": "x"})
                assert response.status_code in (404, 405), (name, method, response.status_code)
                assert b"CANARY" not in response.content, (name, method)
                if response.status_code == 404 and name != "attachment":
                    assert body(response) == body(missing_ticket), (name, method)
    assert _state() == before


def test_post_routes_refuse_requests_without_a_csrf_token(world, ticket):
    """T32: without a token, with a wrong one, with one in the query string."""
    for user in (world.alice, world.agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get("/")  # sets the CSRF cookie
        before = _state()
        for name, pattern in _routes():
            if not POLICY[name].endswith("post") and name not in (
                "portal:create",
                "agent:register",
            ):
                continue
            url = _url(pattern, ticket.key, 1, world.desk.pk)
            data = {"body": "x", "comment": "x", "title": "x", "desk": world.desk.pk}
            for extra in ({}, {"csrfmiddlewaretoken": "wrong" * 8}):
                response = client.post(url, {**data, **extra})
                assert response.status_code == 403, (name, response.status_code)
            response = client.post(url + "?csrfmiddlewaretoken=x", data)
            assert response.status_code == 403, name
        assert _state() == before
        assert b"The form expired" in client.post("/language/", {"language": "da"}).content


def test_get_never_writes(client, world, ticket):
    """T33: every GET route as each side, the database compared statement by statement."""
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="resolve", comment="x")
    attachment = services.attachment_add(
        actor=world.alice,
        ticket=ticket,
        uploads=[
            __import__("casedesk.tickets.attachments").tickets.attachments.BytesUpload(
                "a.txt", b"x"
            )
        ],
    )[0].pk
    for user in (world.alice, world.agent, world.admin):
        client.force_login(user)
        for name, pattern in _routes():
            url = _url(pattern, ticket.key, attachment, world.desk.pk)
            with CaptureQueriesContext(connection) as queries:
                client.get(url + "?take=1&confirm=1&op=assign_me")
            writes = [
                q["sql"]
                for q in queries
                if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            ]
            assert not writes, (name, writes)


def test_logout_is_post_only(client, world):
    client.force_login(world.alice)
    assert client.get("/logout/").status_code == 405
    assert client.get("/portal/").status_code == 200


def test_every_html_page_has_csp_and_no_framing(client, world, ticket):
    """T37 and the CSP: no inline script or style allowed, no framing, no foreign forms."""
    client.force_login(world.agent)
    for name, pattern in _routes():
        url = _url(pattern, ticket.key, 1, world.desk.pk)
        response = client.get(url)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, name
        assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp, name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert "Access-Control-Allow-Origin" not in response, name
        if response.status_code == 200:
            html = response.content.decode()
            assert "<script>" not in html and " style=" not in html and "<style" not in html, name


# T34 (which views skip the CSRF check) is one inventory for the whole URLconf:
# tests/api/test_inventory.py (only the API's views, which check CSRF themselves).


def test_server_errors_are_a_plain_page(client, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("CANARY-internal-detail")

    client.raise_request_exception = False
    monkeypatch.setattr("casedesk.portal.views.lists.page_context", broken)
    client.force_login(world.alice)
    response = client.get("/portal/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"CANARY-internal-detail" not in response.content
