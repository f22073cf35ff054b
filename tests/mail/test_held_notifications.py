"""One desk's broken notification holds up no other desk's mail; staff see it and act
(issue 9: a desk with a mistyped time zone stopped mail for every desk)."""

from __future__ import annotations

import pytest

from casedesk.desks.models import Desk
from casedesk.mail.models import OutboundMail
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import OutboxItem
from tests.pages import body


def held_of(ticket) -> list[OutboxItem]:
    return list(
        OutboxItem.objects.filter(consumer="mail", event__ticket=ticket, held_at__isnull=False)
    )


@pytest.fixture
def broken(world, desk_mail, smtp, settings, monkeypatch):
    """GEN's time zone is mistyped (written past the validation); OTH's is fine.

    Mail dates now fall back to UTC for a zone that does not exist, so a mistyped zone no
    longer breaks a notification by itself: the composer is made to refuse one, as any
    fault in one desk's data would, to show that one desk's fault holds up no other."""
    from zoneinfo import ZoneInfo

    from casedesk.mail.models import DeskMail
    from casedesk.mail.outbound import compose

    real = compose.notification

    def strict(*, event, **kwargs):
        ZoneInfo(Desk.objects.get(pk=event.desk_id).time_zone)  # raises for "Copenhagn"
        return real(event=event, **kwargs)

    monkeypatch.setattr(compose, "notification", strict)

    DeskMail.objects.create(desk=world.other_desk, address="help@oth.example")
    settings.CASEDESK_OUTBOX_MAX_ATTEMPTS = 1
    gen = services.ticket_create(actor=world.alice, desk=world.desk, title="on the broken desk")
    oth = services.ticket_create(actor=world.alice, desk=world.other_desk, title="elsewhere")
    run_once()
    smtp.received.clear()
    Desk.objects.filter(pk=world.desk.pk).update(time_zone="Europe/Copenhagn")
    gen = services.ticket_transition(
        actor=world.agent, ticket=gen, transition="start", assignee=world.agent
    )
    # the customer's mail says when the case closes by itself: in the desk's time zone
    services.ticket_transition(actor=world.agent, ticket=gen, transition="resolve",
                               comment="Fixed")  # fmt: skip
    services.comment_add(actor=world.outsider, ticket=oth, body="We are on it.")
    run_once()
    return gen, oth


def test_every_other_desks_mail_goes_out_and_the_broken_one_is_held(world, broken, smtp):
    gen, oth = broken
    assert any("OTH-1" in m["Subject"] for m in smtp.messages())
    assert OutboundMail.objects.filter(ticket=oth, event__kind="comment", status="sent").exists()
    held = held_of(gen)
    assert held and all(i.held_at and "Copenhagn" in i.last_error for i in held)
    assert "resolve" in {i.event.data.get("transition") for i in held}
    assert not OutboundMail.objects.filter(event__in=[i.event for i in held]).exists()


def test_desk_staff_see_it_on_the_mail_problems_page_and_try_again(client, world, broken, smtp):
    gen, _ = broken
    held = held_of(gen)
    client.force_login(world.agent)
    page = client.get("/mail/problems/")
    assert page.status_code == 200
    assert b"GEN-1" in page.content and b"Copenhagn" in page.content
    Desk.objects.filter(pk=world.desk.pk).update(time_zone="Europe/Copenhagen")
    for item in held:
        assert client.post(f"/mail/problems/notification/{item.pk}/retry/").status_code == 302
    run_once()
    resolved = next(i.event for i in held if i.event.data.get("transition") == "resolve")
    assert OutboundMail.objects.filter(event=resolved, status="sent").exists()
    assert not OutboxItem.objects.filter(consumer="mail").exists()


def test_desk_staff_may_discard_it(client, world, broken):
    gen, _ = broken
    item = held_of(gen)[0]
    client.force_login(world.lead)
    assert client.post(f"/mail/problems/notification/{item.pk}/discard/").status_code == 302
    assert not OutboxItem.objects.filter(pk=item.pk).exists()
    run_once()
    assert not OutboundMail.objects.filter(event=item.event).exists()


@pytest.mark.parametrize("who", ["outsider", "alice", "bob"])
def test_nobody_else_sees_or_touches_it(client, world, broken, who):
    gen, _ = broken
    item = held_of(gen)[0]
    client.force_login(getattr(world, who))
    page = client.get("/mail/problems/")
    if who == "outsider":  # staff of another desk: the page, without GEN's entry
        assert page.status_code == 200 and b"Copenhagn" not in page.content
    else:
        assert page.status_code == 404
    missing = client.post("/mail/problems/notification/999999/retry/")
    assert missing.status_code == 404
    for action in ("retry", "discard"):
        answer = client.post(f"/mail/problems/notification/{item.pk}/{action}/")
        assert answer.status_code == 404 and body(answer) == body(missing)
    item.refresh_from_db()
    assert item.held_at is not None and item.attempts == 1
