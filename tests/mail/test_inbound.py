"""Mail in: the corpus, threading, identity, loops and duplicates (SECURITY-TESTS G)."""

from __future__ import annotations

import pytest

from casedesk.mail.inbound.receive import mail_receive
from casedesk.mail.models import DeskMail, InboundMail, OutboundMail
from casedesk.mail.threading import root_id
from casedesk.ops.worker import run_once
from casedesk.tickets.models import Attachment, Comment, Ticket, TicketEvent

from .helpers import corpus, mail, vouched


def receive(world, raw, desk=None, proven=True):
    """As the trusted MTA hands it on (with its DMARC pass), unless `proven=False`."""
    return mail_receive(vouched(raw) if proven else raw, desk=desk or world.desk, transport="test")


@pytest.fixture
def first(world, desk_mail):
    """GEN-1, opened by Alice by mail, and the confirmation she was sent."""
    result = receive(world, corpus("plain_new.eml"))
    assert (result.outcome, result.ticket_key) == ("created", "GEN-1")
    run_once()
    sent = OutboundMail.objects.get(kind="created")
    return {"ticket": Ticket.objects.get(key="GEN-1"), "sent": sent.message_id,
            "root": root_id(sent.ticket_id)}  # fmt: skip


def test_a_mail_from_a_known_customer_opens_a_ticket_in_their_organisation(world, first):
    t = first["ticket"]
    assert (t.reporter, t.organisation, t.channel) == (world.alice, world.org_a, "mail")
    assert t.title == "The label printer stops after ten labels"
    assert "stops after ten labels" in t.description and "Kind regards" in t.description
    row = InboundMail.objects.get(message_id="<plain-new@example.org>")
    assert bytes(row.raw) == vouched(corpus("plain_new.eml"))  # kept as received, byte for byte
    assert (row.sender, row.ticket, row.outcome) == (world.alice, t, "created")


REPLIES = ["outlook_reply.eml", "gmail_reply.eml", "apple_reply.eml", "subject_key_reply.eml"]
NEW_TEXT = {
    "outlook_reply.eml": "Yes, it is the Zebra printer in hall 2.\n\nAlice",
    "gmail_reply.eml": "It started after the update on Friday.",
    "apple_reply.eml": "Restarting it helps for an hour.",
    "subject_key_reply.eml": "Det virker nu.",
}


@pytest.mark.parametrize("name", REPLIES)
def test_replies_land_on_their_ticket_with_quotes_and_signatures_trimmed(world, first, name):
    result = receive(world, corpus(name, sent=first["sent"], root=first["root"]))
    assert (result.outcome, result.ticket_key) == ("commented", "GEN-1")
    comment = Comment.objects.get(pk=InboundMail.objects.get(pk=result.mail_id).comment_id)
    assert comment.body == NEW_TEXT[name]
    assert (comment.author, comment.internal, comment.channel) == (world.alice, False, "mail")


CORPUS_CASES = {
    # name: (outcome, a text the ticket's description must contain)
    "alternative.eml": ("created", "only the header row"),
    "html_only.eml": ("created", "The screen freezes when I press Save.\n\n- Windows 11"),
    "inline_image.eml": ("created", "[image: dialog.png]"),
    "wrong_charset.eml": ("created", "Blåbærgrød og smørrebrød"),
    "unknown_charset.eml": ("created", "Příliš žluťoučký kůň"),
    "utf7.eml": ("created", "Hi <script>alert(1)</script> there"),
    "rfc2047_subject.eml": ("created", "Encoded words"),
    "winmail.eml": ("created", "serial number"),
    "long_lines.eml": ("created", "start xxxx"),
    "malformed_mime.eml": ("created", "boundary is never closed"),
    "forwarded_chain.eml": ("created", "the address label was blank"),
    "no_message_id.eml": ("created", "no Message-ID"),
    "garbage_base64.eml": ("created", "Hello wor"),
    "nul_and_mixed_endings.eml": ("created", "line one with NUL\nline two\nline three"),
    "html_attachment.eml": ("created", "Two files attached."),
    "auto_reply.eml": ("automatic", None),
    "bounce.eml": ("automatic", None),
    "bulk.eml": ("automatic", None),
}


@pytest.mark.parametrize("name", sorted(CORPUS_CASES))
def test_every_corpus_mail_is_stored_and_threaded_or_refused_with_a_reason(world, first, name):
    outcome, text = CORPUS_CASES[name]
    result = receive(world, corpus(name, sent=first["sent"], root=first["root"]))
    row = InboundMail.objects.get(pk=result.mail_id)
    assert row.outcome == outcome, row.reason
    assert bytes(row.raw) == vouched(corpus(name, sent=first["sent"], root=first["root"]))
    if outcome == "created":
        assert text in row.ticket.description
        assert "<script>" not in row.ticket.title
    else:
        assert row.reason and row.no_reply and row.comment_id is None
    run_once()
    assert (
        not OutboundMail.objects.filter(inbound=row, status="sent")
        .exclude(kind__startswith="created")
        .exists()
    )


def test_html_only_mail_becomes_readable_text_and_fetches_nothing(world, first):
    result = receive(world, corpus("html_only.eml"))
    t = Ticket.objects.get(key=result.ticket_key)
    assert "alert" not in t.description and "color: red" not in t.description
    assert "our status page (https://status.example.org/)" in t.description
    assert "[image]" in t.description  # the remote tracking pixel, never loaded


def test_attachments_follow_the_web_rules_and_a_refused_part_loses_nothing_else(world, first):
    result = receive(world, corpus("html_attachment.eml"))
    row = InboundMail.objects.get(pk=result.mail_id)
    kept = list(Attachment.objects.filter(ticket=row.ticket).values_list("name", flat=True))
    assert kept == ["résumé.txt"]
    assert any("resume.html" in n for n in row.notes) and any("image.svg" in n for n in row.notes)


def test_inline_images_and_winmail_files_are_kept(world, first):
    inline = receive(world, corpus("inline_image.eml"))
    tnef = receive(world, corpus("winmail.eml"))
    names = lambda r: [a.name for a in Attachment.objects.filter(ticket__key=r.ticket_key)]  # noqa: E731
    assert names(inline) == ["dialog.png"]
    assert names(tnef) == ["notes.txt"]
    stored = Attachment.objects.get(ticket__key=tnef.ticket_key)
    assert stored.file.read() == b"Serial number: 4711-ABC\r\n"


def test_the_same_message_id_is_stored_once_per_desk(world, first):
    again = receive(world, corpus("plain_new.eml"))
    assert again.duplicate and Ticket.objects.count() == 1
    assert InboundMail.objects.filter(message_id="<plain-new@example.org>").count() == 1
    # without a Message-ID: the same date, sender, subject and body are the same mail
    a = receive(world, corpus("no_message_id.eml"))
    b = receive(world, corpus("no_message_id.eml"))
    assert (a.duplicate, b.duplicate) == (False, True)
    # the same Message-ID to another desk is that desk's own mail
    DeskMail.objects.create(desk=world.other_desk, address="help@oth.example")
    other = receive(world, corpus("plain_new.eml"), desk=world.other_desk)
    assert other.outcome == "created" and other.ticket_key == "OTH-1"


def test_a_reply_claiming_another_organisations_ticket_never_lands_there(world, first):
    raw = corpus("outlook_reply.eml", sent=first["sent"], root=first["root"])
    raw = raw.replace(b"alice@example.org", b"bob@example.org", 1)
    result = receive(world, raw)
    row = InboundMail.objects.get(pk=result.mail_id)
    assert result.outcome == "created" and result.ticket_key == "GEN-2"
    assert row.ticket.organisation == world.org_b
    assert any("GEN-1" in n and "may not see" in n for n in row.notes)
    assert not Comment.objects.filter(ticket=first["ticket"]).exists()
    # by subject key alone, too
    raw = mail(sender="bob@example.org", subject="[GEN-1] mine now?", message_id="<b2@x.example>")
    assert receive(world, raw).ticket_key == "GEN-3"


def test_a_forged_root_id_does_not_thread(world, first):
    forged = first["root"].replace("cd.", "cd.9", 1)
    raw = mail(subject="hello", headers={"In-Reply-To": forged}, message_id="<f@x.example>")
    assert receive(world, raw).outcome == "created"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("X-Autoreply", "yes"),
        ("Return-Path", "<>"),
    ],
)
def test_machine_mail_is_recorded_but_never_answered(world, desk_mail, header, value):
    raw = mail(subject="Away", headers={header: value}, message_id=f"<{header}{value}@x.example>")
    result = receive(world, raw)
    assert result.outcome == "automatic" and not Ticket.objects.exists()
    run_once()
    assert not OutboundMail.objects.exists()


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Auto-Response-Suppress", "All"), ("List-Id", "<x.example.org>"), ("Precedence", "list")],
)
def test_list_and_no_autoreply_mail_opens_a_ticket_but_gets_no_confirmation(
    world, desk_mail, header, value
):
    raw = mail(subject="Please", headers={header: value}, message_id=f"<{header}@x.example>")
    assert receive(world, raw).outcome == "created"
    run_once()
    row = OutboundMail.objects.get(kind="created")
    assert row.status == "skipped" and "must not be answered" in row.last_error


def test_our_own_mail_coming_back_is_dropped(world, first):
    sent = OutboundMail.objects.get(kind="created")
    looped = mail(subject="x", headers={"X-Loop": "casedesk@127.0.0.1"}, message_id="<l@x.ex>")
    own_id = mail(subject="y", message_id=sent.message_id)
    from_desk = mail(sender="support@gen.example", subject="z", message_id="<z@x.example>")
    for raw in (looped, own_id, from_desk):
        assert receive(world, raw).outcome == "dropped"
    assert Ticket.objects.count() == 1


def test_a_sender_is_rate_limited(world, desk_mail):
    desk_mail.sender_limit_per_hour = 3
    desk_mail.save()
    outcomes = [
        receive(world, mail(subject=f"n{i}", message_id=f"<r{i}@x.example>")).outcome
        for i in range(5)
    ]
    assert outcomes == ["created"] * 3 + ["held"] * 2
    assert "more than 3 mails in an hour" in InboundMail.objects.filter(outcome="held")[0].reason


def test_a_ping_pong_autoresponder_gets_a_bounded_number_of_answers(world, desk_mail, smtp):
    """A peer that answers every mail it gets with a new mail, and no loop headers."""
    for round_no in range(60):
        receive(world, mail(subject=f"Re: auto {round_no}", message_id=f"<pp{round_no}@x.ex>"))
        run_once()
    answers = len(smtp.to("alice@example.org"))
    assert answers <= 10  # confirmations per address and day, with the rate limit before it
    assert InboundMail.objects.filter(outcome="held").count() >= 30


@pytest.mark.parametrize(
    "sender",
    [
        '"alice@example.org" <attacker@evil.example>',
        "alice@example.org, bob@example.org",
        "<>",
        "alice@example.org@evil.example",
        '"@"@example.com',
        "alice@\u0435xample.org",  # a Cyrillic "e"
        "",
    ],
)
def test_odd_sender_addresses_never_become_alice(world, desk_mail, sender):
    raw = mail(sender=sender or "x", subject="Hi", message_id=f"<{abs(hash(sender))}@x.ex>")
    if not sender:
        raw = raw.replace(b"From: x\n", b"")
    result = receive(world, raw)
    row = InboundMail.objects.get(pk=result.mail_id)
    assert row.sender != world.alice
    assert result.outcome in ("held", "automatic")
    assert not Ticket.objects.filter(reporter=world.alice).exists()


def test_reply_to_and_cc_decide_nothing(world, first):
    raw = mail(
        sender="attacker@evil.example",
        subject="[GEN-1] add me",
        headers={"Reply-To": "alice@example.org", "Cc": "bob@example.org"},
        message_id="<rt@evil.example>",
    )
    result = receive(world, raw)
    assert result.outcome == "held" and not Comment.objects.exists()
    assert not first["ticket"].participants.exists()


def test_app_control_headers_from_the_internet_are_ignored(world, desk_mail):
    raw = mail(
        subject="hello",
        headers={
            "X-Casedesk-Priority": "critical",
            "X-Casedesk-Status": "closed",
            "X-Casedesk-Desk": "OTH",
            "X-Casedesk-Customer": "bob",
        },
        message_id="<ctl@x.example>",
    )
    t = Ticket.objects.get(key=receive(world, raw).ticket_key)
    assert (t.desk, t.reporter, t.status, t.priority) == (
        world.desk,
        world.alice,
        "new",
        t.desk.workflow.workflow.default_priority,
    )


def test_spoofed_senders_are_held_when_the_mta_says_so(world, desk_mail, settings):
    settings.CASEDESK_MAIL_AUTHSERV_ID = "mx.gen.example"
    cases = {
        "mx.gen.example; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=fail": "held",
        "mx.gen.example; spf=softfail; dkim=none; dmarc=none": "held",
        "evil.example; spf=pass; dkim=pass; dmarc=pass": "held",  # not our server's verdict
        "mx.gen.example; spf=pass smtp.mailfrom=example.org; dmarc=pass": "created",
    }
    for i, (results, outcome) in enumerate(cases.items()):
        raw = mail(subject=f"s{i}", headers={"Authentication-Results": results},
                   message_id=f"<spoof{i}@x.example>")  # fmt: skip
        assert receive(world, raw).outcome == outcome, results
    run_once()
    # no automatic mail to the address that was forged
    assert not OutboundMail.objects.filter(inbound__outcome="held").exists()


def test_unknown_senders_meet_the_desks_policy(world, desk_mail, smtp):
    stranger = mail(sender="Stranger <s@new.example>", subject="Hi", message_id="<u1@n.ex>")
    assert receive(world, stranger).outcome == "held"  # the default policy
    desk_mail.unknown_senders = "reject"
    desk_mail.save()
    raw = mail(sender="s@new.example", subject="CANARY-subj", body="CANARY-body",
               message_id="<u2@n.ex>")  # fmt: skip
    assert receive(world, raw).outcome == "rejected"
    receive(world, mail(sender="s@new.example", subject="again", message_id="<u3@n.ex>"))
    run_once()
    (refusal,) = smtp.to("s@new.example")  # one a day, however often they write
    assert refusal["Auto-Submitted"] == "auto-replied"
    assert b"CANARY" not in smtp.received[0][2]  # nothing of theirs is echoed
    assert not Ticket.objects.exists()


def test_a_stranger_becomes_a_contact_who_sees_only_their_own_ticket(world, desk_mail):
    from casedesk.accounts.models import Organisation

    guests = Organisation.objects.create(name="Guests", slug="guests",
                                         members_see_all_tickets=False)  # fmt: skip
    world.desk.organisations.add(guests)
    desk_mail.unknown_senders, desk_mail.contact_organisation = "open", guests
    desk_mail.full_clean()
    desk_mail.save()
    one = receive(world, mail(sender="Jo <jo@new.example>", subject="A", message_id="<c1@n>"))
    two = receive(world, mail(sender="kim@new.example", subject="[GEN-1] B", message_id="<c2@n>"))
    assert (one.outcome, two.outcome) == ("created", "created")
    jo = Ticket.objects.get(key="GEN-1").reporter
    assert (jo.email, jo.organisation, jo.has_usable_password()) == ("jo@new.example", guests,
                                                                     False)  # fmt: skip
    kim = Ticket.objects.get(key=two.ticket_key).reporter
    assert not Ticket.objects.visible_to(kim).filter(key="GEN-1").exists()
    # an organisation whose members see everything cannot hold strangers
    from django.core.exceptions import ValidationError

    desk_mail.contact_organisation = world.org_a
    with pytest.raises(ValidationError):
        desk_mail.full_clean()


def test_a_staff_member_answers_by_mail(world, first):
    raw = mail(sender="agent@supplier.example", subject="[GEN-1] x", body="We are on it.",
               message_id="<st@s.example>")  # fmt: skip
    result = receive(world, raw)
    assert result.outcome == "commented"
    comment = Comment.objects.get()
    assert (comment.author, comment.internal) == (world.agent, False)
    # a staff member of another desk is nobody here
    raw = mail(sender="outsider@supplier.example", subject="[GEN-1] y", message_id="<o@s.ex>")
    assert receive(world, raw).outcome == "held"


def test_several_people_with_one_address_are_nobody(world, desk_mail):
    world.bob.email = "alice@example.org"
    world.bob.save()
    result = receive(world, mail(subject="who?", message_id="<dup-person@x.ex>"))
    assert result.outcome == "held" and "several people" in result.reason


def test_a_reply_to_a_staff_members_mail_waits_for_staff(world, first, smtp):
    from casedesk.mail.inbound.review import inbound_release
    from casedesk.mail.outbound.adhoc import ticket_mail_send

    sent = ticket_mail_send(actor=world.agent, ticket=first["ticket"], to=["ops@vendor.example"],
                            subject="Log?", body="Please send the log.")  # fmt: skip
    raw = mail(sender="ops@vendor.example", subject="Re: [GEN-1] Log?", body="Here it is.",
               headers={"In-Reply-To": sent.message_id},
               message_id="<v1@vendor.example>")  # fmt: skip
    result = receive(world, raw)
    row = InboundMail.objects.get(pk=result.mail_id)
    assert (row.outcome, row.ticket) == ("held", first["ticket"])
    released = inbound_release(actor=world.agent, mail_id=row.pk, ticket_key="GEN-1")
    assert released.outcome == "commented" and released.reviewed_by == world.agent
    note = Comment.objects.get(pk=released.comment_id)
    assert note.internal and "Here it is." in note.body and "ops@vendor.example" in note.body
    from casedesk.common.errors import NotFound

    with pytest.raises(NotFound):
        inbound_release(actor=world.outsider, mail_id=row.pk)


def test_history_shows_the_mail_channel(world, first):
    event = TicketEvent.objects.get(ticket=first["ticket"], kind="created")
    assert event.channel == "mail" and event.actor == world.alice


def test_a_bounce_of_our_mail_marks_it_failed_for_staff(world, first):
    from casedesk.mail.access import mail_problems_for

    sent = OutboundMail.objects.get(kind="created")
    raw = corpus("bounce.eml").replace(
        b"Status: 5.1.1\r\n",
        b"Status: 5.1.1\r\n--b-1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: " + sent.message_id.encode() + b"\r\nSubject: [GEN-1] x\r\n",
    )
    result = receive(world, raw)
    row = InboundMail.objects.get(pk=result.mail_id)
    assert (row.outcome, row.ticket) == ("automatic", first["ticket"])
    sent.refresh_from_db()
    assert sent.status == "failed" and sent.last_error == "bounced: Status: 5.1.1"
    assert mail_problems_for(user=world.agent)[1] == [sent]
    assert not OutboundMail.objects.filter(inbound=row).exists()  # never answered


def test_many_files_are_all_kept_and_empty_or_odd_parts_do_not_break_the_mail(world, first):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alice@example.org", "support@gen.example", "Logs"
    msg["Message-ID"] = "<many-files@example.org>"
    msg.set_content("30 logs attached.")
    for n in range(30):
        msg.add_attachment(f"log {n}\n".encode(), maintype="text", subtype="plain",
                           filename=f"log{n:02}.txt")  # fmt: skip
    msg.add_attachment(b"", maintype="text", subtype="plain", filename="empty.txt")
    msg.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream",
                       filename="tool.exe")  # fmt: skip
    result = receive(world, msg.as_bytes())
    row = InboundMail.objects.get(pk=result.mail_id)
    names = sorted(Attachment.objects.filter(ticket=row.ticket).values_list("name", flat=True))
    assert len(names) == 31 and names[0] == "empty.txt" and names[-1] == "log29.txt"
    assert any("tool.exe" in n for n in row.notes)
