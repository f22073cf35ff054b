"""Notifications by rule, in the recipient's language, through a real SMTP server."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from casedesk.common.errors import InvalidInput, NotFound
from casedesk.mail.access import mail_problems_for
from casedesk.mail.models import MailPreferences, OutboundMail
from casedesk.mail.outbound.adhoc import ticket_mail_send
from casedesk.mail.threading import root_id
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import TicketEvent, TicketTimer

from .conftest import body_of, html_of


def sent_to(smtp, user):
    return smtp.to(user.email)


def test_a_new_ticket_is_confirmed_to_its_reporter_with_threading_headers(world, smtp, desk_mail):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="Printer on fire")
    run_once()
    (mail,) = sent_to(smtp, world.alice)
    assert mail["Subject"] == "[GEN-1] Printer on fire"
    # her own reply address for this ticket (reply_address.py), on the desk's address
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith(f"support+r{t.pk}-{world.alice.pk}-")
    assert reply_to.endswith("@gen.example")
    assert mail["From"].addresses[0].addr_spec == "support@gen.example"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["List-Unsubscribe"] == "<http://127.0.0.1:8000/mail/preferences/>"
    assert mail["X-Loop"] == "casedesk@127.0.0.1"
    assert mail["References"] == root_id(t.pk) == mail["In-Reply-To"]
    assert mail["Message-ID"].endswith(">") and mail["Message-ID"] != root_id(t.pk)
    text = body_of(mail)
    assert "We have received your request GEN-1" in text
    assert "http://127.0.0.1:8000/tickets/GEN-1/" in text
    assert "GEN-1" in html_of(mail)
    # nobody else: the organisation did not ask for every member to be told
    assert len(smtp.received) == 1
    row = OutboundMail.objects.get()
    assert (row.status, row.message_id) == ("sent", mail["Message-ID"])


def test_every_member_is_told_when_the_organisation_asks(world, smtp):
    world.org_a.notify_all_members_on_new = True
    world.org_a.save()
    services.ticket_create(actor=world.alice, desk=world.desk, title="Down")
    run_once()
    told = {rcpt for _, rcpts, _ in smtp.received for rcpt in rcpts}
    assert told == {f"{n}@example.org" for n in ("alice", "amir", "anna", "ada")}
    assert "bob@example.org" not in told  # another organisation
    (to_amir,) = smtp.to("amir@example.org")
    assert "alice opened GEN-1 for Org A" in body_of(to_amir)


def test_a_public_comment_reaches_reporter_and_followers_with_a_copy_to_the_assignee(
    world, smtp, ticket
):
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    run_once()
    smtp.received.clear()
    services.comment_add(actor=world.alice, ticket=ticket, body="It is **still** smoking")
    run_once()
    told = {rcpt for _, rcpts, _ in smtp.received for rcpt in rcpts}
    assert told == {"amir@example.org", "agent@supplier.example"}  # not alice, who wrote it
    (copy,) = smtp.to("agent@supplier.example")
    assert "alice wrote on GEN-1" in body_of(copy)
    assert "<strong>still</strong>" in html_of(copy)
    smtp.received.clear()
    services.comment_add(actor=world.agent, ticket=ticket, body="On our way")
    run_once()
    assert {r for _, rcpts, _ in smtp.received for r in rcpts} == {
        "alice@example.org",
        "amir@example.org",
    }


def test_internal_notes_never_reach_customers(world, smtp, ticket):
    canary = "CANARY-note-7f3a"
    services.ticket_assign(actor=world.lead, ticket=ticket, assignee=world.agent)
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    services.comment_add(actor=world.lead, ticket=ticket, body=f"internal {canary}", internal=True)
    t = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", comment=canary, comment_internal=True
    )
    services.ticket_transition(actor=world.agent, ticket=t, transition="ask_customer",
                               comment="Which printer?")  # fmt: skip
    run_once()
    for _, rcpts, raw in smtp.received:
        if any(r.endswith("@example.org") for r in rcpts):
            assert canary.encode() not in raw
    staff = smtp.to("agent@supplier.example")
    assert any(canary in body_of(m) for m in staff)  # the assignee gets the note


def test_a_move_to_the_customers_turn_tells_whose_turn_it_is_in_their_language(world, smtp, ticket):
    world.alice.language = "da"
    world.alice.save()
    services.participant_add(actor=world.alice, ticket=ticket, person=world.amir)
    t = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", assignee=world.agent
    )
    run_once()
    smtp.received.clear()
    services.ticket_transition(
        actor=world.agent, ticket=t, transition="ask_customer", comment="Which printer?"
    )
    run_once()
    (to_alice,) = smtp.to("alice@example.org")
    text = body_of(to_alice)
    assert "GEN-1 venter på dig: Venter på dig." in text and "Which printer?" in text
    assert "Hej alice," in text and "Svar på denne mail" in text
    (to_amir,) = smtp.to("amir@example.org")
    assert "has a new status" in body_of(to_amir)


def test_each_status_mail_names_the_status_its_change_reached(world, smtp, ticket):
    """Mail is composed later, by the worker: three quick moves still make three mails,
    each naming where its own change led, and the earlier ones say where the case is now."""
    t = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", assignee=world.agent
    )
    t = services.ticket_transition(
        actor=world.agent, ticket=t, transition="ask_customer", comment="Which printer?"
    )
    services.ticket_transition(actor=world.agent, ticket=t, transition="resolve", comment="Done")
    run_once()
    heads = [
        line
        for mail in smtp.to("alice@example.org")
        for line in body_of(mail).splitlines()
        if line.startswith("GEN-1 ")
    ]
    assert heads == [
        "GEN-1 has a new status: In progress.",
        "GEN-1 is waiting for you: Waiting for you.",
        "GEN-1 is waiting for you: Resolved.",
    ]
    first, second, last = (
        m
        for m in smtp.to("alice@example.org")
        if "GEN-1 has" in body_of(m) or "GEN-1 is" in body_of(m)
    )
    assert "it is now: Resolved." in body_of(first) and "it is now: Resolved." in body_of(second)
    assert "Status: In progress" in body_of(first)
    # what she can do belongs to where the case is now, and only the last mail is there
    assert "What you can do now" not in body_of(second)
    assert "moved on" not in body_of(last) and "What you can do now" in body_of(last)


def test_a_warning_before_a_timer_acts_names_the_date(world, smtp, ticket, clock):
    t = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", assignee=world.agent
    )
    services.ticket_transition(actor=world.agent, ticket=t, transition="resolve", comment="Fixed")
    run_once()
    smtp.received.clear()
    clock.advance(days=5)
    run_once()
    (reminder,) = smtp.to("alice@example.org")
    text = body_of(reminder)
    assert "A reminder about GEN-1" in text
    assert "this case closes on" in text and "Nov. 9, 2026" in text
    assert TicketEvent.objects.filter(kind="timer_warning").count() == 1


def test_a_reminders_date_is_in_the_recipients_own_zone_and_says_which(world, smtp, ticket, clock):
    world.desk.time_zone = "Europe/Copenhagen"
    world.desk.save()
    world.alice.time_zone = "America/Los_Angeles"
    world.alice.save()
    t = services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="start", assignee=world.agent
    )
    services.ticket_transition(actor=world.agent, ticket=t, transition="resolve", comment="Fixed")
    due = TicketTimer.objects.get(ticket=ticket).due_at
    clock.advance(days=5)
    run_once()
    (reminder,) = [m for m in smtp.to("alice@example.org") if "reminder" in body_of(m)]
    local = due.astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.tzname() == "PST"
    hour = local.strftime("%-I") + (" a.m." if local.hour < 12 else " p.m.")
    assert f"Nov. {local.day}, 2026, {hour} PST." in body_of(reminder).replace(":00", "")
    assert "CET" not in body_of(reminder)


def test_every_link_in_a_mail_follows_the_configured_address(world, smtp, settings):
    settings.BASE_URL = "https://desk.example.com:8443"
    services.ticket_create(actor=world.alice, desk=world.desk, title="Printer on fire")
    run_once()
    (mail,) = smtp.to("alice@example.org")
    assert mail["List-Unsubscribe"] == "<https://desk.example.com:8443/mail/preferences/>"
    for body in (body_of(mail), html_of(mail)):
        assert "https://desk.example.com:8443/tickets/GEN-1/" in body
        assert "https://desk.example.com:8443/mail/preferences/" in body
        assert "127.0.0.1" not in body


def test_people_choose_which_mails_they_get(world, smtp, ticket):
    MailPreferences.objects.create(user=world.alice, comments=False)
    services.comment_add(actor=world.agent, ticket=ticket, body="Hello")
    run_once()
    assert [m["Subject"] for m in smtp.to("alice@example.org")] == ["[GEN-1] Printer on fire"]


def test_a_handler_that_runs_twice_mails_once(world, smtp, ticket):
    from casedesk.mail.outbound.notify import notify_events

    event = TicketEvent.objects.get(kind="created")
    notify_events([event])
    notify_events([event])
    run_once()
    assert OutboundMail.objects.count() == 1 and len(smtp.received) == 1


def test_a_batch_of_notifications_costs_the_same_statements_for_one_entry_or_five(world, smtp):
    """Recipients, their visibility and preferences, the comments and the mails are read
    and written once per outbox batch, not once per entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casedesk.tickets import outbox

    tickets = [
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"Printer {n}")
        for n in range(5)
    ]
    outbox.deliver_all()

    def statements(some) -> tuple[int, int]:
        before = OutboundMail.objects.count()
        for t in some:
            services.comment_add(actor=world.agent, ticket=t, body="A new roller is coming.")
        with CaptureQueriesContext(connection) as seen:
            outbox.deliver_all()
        return len(seen), OutboundMail.objects.count() - before

    one, five = statements(tickets[:1]), statements(tickets)
    assert (one[1], five[1]) == (1, 5)
    assert one[0] == five[0]


def test_header_injection_and_html_in_user_text_are_defused(world, smtp):
    t = services.ticket_create(
        actor=world.alice, desk=world.desk, title="Hi\r\nBcc: x@evil.example <b>bold</b>"
    )
    services.comment_add(
        actor=world.agent,
        ticket=t,
        body='<a href="https://evil.example/reset">Reset your password</a> <script>x()</script>',
    )
    run_once()
    for _, rcpts, raw in smtp.received:
        assert "x@evil.example" not in rcpts
        assert b"\nBcc:" not in raw
    assert all("Bcc" not in m for m in smtp.messages())
    mail = smtp.to("alice@example.org")[-1]
    assert mail["Subject"] == "[GEN-1] Hi Bcc: x@evil.example <b>bold</b>"
    html = html_of(mail)
    assert "<script>" not in html and "&lt;b&gt;bold" in html and "<b>bold" not in html
    # no live link someone else wrote: its words, then where it really goes
    assert "Reset your password (https://evil.example/reset)" in html
    assert 'href="https://evil.example' not in html


def test_a_mail_that_cannot_be_sent_is_retried_then_shown_to_staff(world, smtp, ticket, clock):
    smtp.refuse = "451 4.3.0 try again later"
    run_once()
    row = OutboundMail.objects.get()
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    for _ in range(10):
        clock.advance(hours=13)
        run_once()
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 8
    _, failed, _ = mail_problems_for(user=world.agent)
    assert failed == [row]
    assert mail_problems_for(user=world.outsider) == ([], [], [])  # another desk's staff
    # fixed server, staff send it again
    smtp.refuse = ""
    from casedesk.mail.outbound.send import mail_retry

    mail_retry(actor=world.agent, mail=row)
    run_once()
    row.refresh_from_db()
    assert row.status == "sent" and len(smtp.received) == 1
    with pytest.raises(NotFound):
        mail_retry(actor=world.outsider, mail=row)


def test_a_permanent_refusal_fails_at_once(world, smtp, ticket):
    smtp.refuse = "550 5.1.1 no such user"
    run_once()
    assert OutboundMail.objects.get().status == "failed"


def test_a_dropped_connection_after_data_is_sent_again_under_the_same_id(world, smtp, ticket,
                                                                         clock):  # fmt: skip
    smtp.drop_after_data = 1
    run_once()
    row = OutboundMail.objects.get()
    assert row.status == "pending"
    clock.advance(minutes=2)
    run_once()
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2
    assert [m["Message-ID"] for m in smtp.messages()] == [row.message_id]


def test_staff_mail_anyone_from_a_ticket_and_it_is_kept(world, smtp, desk_mail, ticket):
    (att,) = services.attachment_add(
        actor=world.alice, ticket=ticket, uploads=[BytesUpload("log.txt", b"error 42\n")]
    )
    run_once()
    smtp.received.clear()
    mail = ticket_mail_send(
        actor=world.agent,
        ticket=ticket,
        to=["ops@vendor.example"],
        cc=["Boss@Vendor.example"],
        subject="Please look at this",
        body="The *customer* sees error 42.",
        attachments=[BytesUpload("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)],
        attachment_ids=[att.pk],
    )
    run_once()
    (sent,) = smtp.to("ops@vendor.example")
    assert sent["Subject"] == "[GEN-1] Please look at this" and sent["Cc"] == "boss@vendor.example"
    assert "Auto-Submitted" not in sent
    names = sorted(p.get_filename() for p in sent.iter_attachments())
    assert names == ["log.txt", "shot.png"]
    event = TicketEvent.objects.get(kind="mail_sent")
    assert event.data["to"] == ["ops@vendor.example"] and event.public
    assert [a["name"] for a in event.data["attachments"]] == ["log.txt", "shot.png"]
    assert mail.status == "pending"  # the row as made; the worker sent it
    assert ticket.attachments.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"to": []},
        {"to": ["not an address"]},
        {"to": ["a@b.example, c@d.example"]},
        {"subject": "Hi\r\nBcc: x@evil.example"},
        {"to": ["support@gen.example"]},
        {"body": ""},
    ],
)
def test_bad_mail_from_a_ticket_is_refused_and_nothing_is_written(world, desk_mail, ticket, change):
    args = {"to": ["x@y.example"], "subject": "s", "body": "b", **change}
    before = TicketEvent.objects.count()
    with pytest.raises(InvalidInput):
        ticket_mail_send(actor=world.agent, ticket=ticket, **args)
    assert TicketEvent.objects.count() == before and not OutboundMail.objects.exists()


def test_only_staff_of_the_desk_mail_from_a_ticket(world, ticket):
    from casedesk.common.errors import Forbidden

    args = {"to": ["x@y.example"], "subject": "s", "body": "b"}
    with pytest.raises(Forbidden):
        ticket_mail_send(actor=world.alice, ticket=ticket, **args)
    for stranger in (world.bob, world.outsider):
        with pytest.raises(NotFound):
            ticket_mail_send(actor=stranger, ticket=ticket, **args)
    other = services.ticket_create(actor=world.bob, desk=world.desk, title="B's")
    (foreign,) = services.attachment_add(
        actor=world.bob, ticket=other, uploads=[BytesUpload("b.txt", b"b")]
    )
    with pytest.raises(InvalidInput):
        ticket_mail_send(actor=world.agent, ticket=ticket, attachment_ids=[foreign.pk], **args)
    assert not OutboundMail.objects.filter(kind="adhoc").exists()


def test_sending_takes_few_queries(world, smtp, django_assert_max_num_queries):
    for n in range(5):
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}")
    from casedesk.tickets.outbox import deliver_all

    deliver_all()
    from casedesk.mail.outbound.send import mail_send_due

    # the claim (a savepoint here, a transaction in the worker), the rows with their
    # files, the desks' own addresses, then one update per mail
    with django_assert_max_num_queries(7 + 5):
        assert mail_send_due() == 5
    assert len(smtp.received) == 5


def test_the_desks_team_mailbox_hears_of_every_new_ticket(world, smtp, desk_mail):
    desk_mail.team_address = "Team@Supplier.example"
    desk_mail.full_clean()
    desk_mail.save()
    services.ticket_create(actor=world.alice, desk=world.desk, title="Robot stops")
    run_once()
    (team,) = smtp.to("team@supplier.example")
    assert "alice opened GEN-1." in body_of(team) and "GEN-1: Robot stops" in body_of(team)
    assert "List-Unsubscribe" not in team  # not a person's notification
    desk_mail.team_address = "support@gen.example"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        desk_mail.full_clean()
