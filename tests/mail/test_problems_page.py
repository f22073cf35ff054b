"""Desk staff see the mail that needs them, and only their desks' (SECURITY-TESTS T1/T8)."""

from __future__ import annotations

import pytest

from casedesk.mail.inbound.receive import mail_receive
from casedesk.mail.models import InboundMail, OutboundMail
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from tests.pages import body

from .helpers import mail


@pytest.fixture
def problems(world, desk_mail, smtp):
    held = mail_receive(mail(sender="CANARY-held@new.example", subject="Who am I",
                             message_id="<h1@n.ex>"), desk=world.desk, transport="t")  # fmt: skip
    smtp.refuse = "550 5.1.1 CANARY-failed"
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    run_once()
    smtp.refuse = ""
    return InboundMail.objects.get(pk=held.mail_id), OutboundMail.objects.get()


def test_staff_see_held_and_failed_mail_of_their_desks(client, world, problems,
                                                       django_assert_max_num_queries):  # fmt: skip
    client.force_login(world.agent)
    # session, user, the desks (for the gate and for the scope), held, failed, held
    # notifications, and more
    with django_assert_max_num_queries(8):
        page = client.get("/mail/problems/")
    assert page.status_code == 200
    assert b"canary-held" in page.content and b"CANARY-failed" in page.content


@pytest.mark.parametrize("who", ["outsider", "alice", "bob"])
def test_nobody_else_sees_or_touches_them(client, world, problems, who):
    held, failed = problems
    client.force_login(getattr(world, who))
    missing = client.post("/mail/problems/inbound/999999/discard/")
    assert missing.status_code == 404
    page = client.get("/mail/problems/")
    if who == "outsider":  # staff of another desk: an empty page
        assert page.status_code == 200 and b"canary" not in page.content.lower()
    else:
        assert page.status_code == 404
    for url in (
        f"/mail/problems/inbound/{held.pk}/discard/",
        f"/mail/problems/inbound/{held.pk}/release/",
        f"/mail/problems/outbound/{failed.pk}/retry/",
    ):
        response = client.post(url)
        assert response.status_code == 404 and body(response) == body(missing)
    held.refresh_from_db()
    failed.refresh_from_db()
    assert (held.outcome, failed.status) == ("held", "failed")


def test_staff_discard_held_mail_and_send_failed_mail_again(client, world, problems, smtp):
    held, failed = problems
    client.force_login(world.agent)
    assert client.get(f"/mail/problems/inbound/{held.pk}/discard/").status_code == 405
    assert client.post(f"/mail/problems/inbound/{held.pk}/discard/").status_code == 302
    assert client.post(f"/mail/problems/outbound/{failed.pk}/retry/").status_code == 302
    run_once()
    held.refresh_from_db()
    failed.refresh_from_db()
    assert (held.outcome, held.reviewed_by, failed.status) == ("discarded", world.agent, "sent")
    # releasing a held mail that names no ticket and has no known sender says why
    again = mail_receive(mail(sender="x@new.example", message_id="<h2@n.ex>"), desk=world.desk,
                         transport="t")  # fmt: skip
    response = client.post(f"/mail/problems/inbound/{again.mail_id}/release/", follow=True)
    assert b"still held" in response.content
