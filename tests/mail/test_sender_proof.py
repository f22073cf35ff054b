"""Who wrote a mail is believed only with proof (issue 10, item 1), through Casedesk's
own LMTP receiver: mails DKIM-signed here with keys made here, SPF and DMARC records and
the keys served by a DNS server on loopback, forged mails, and the reply addresses of
our own notifications."""

from __future__ import annotations

import smtplib

import dkim
import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.test import Client

from casedesk.common.errors import InvalidInput
from casedesk.mail.checks import NO_PROOF
from casedesk.mail.inbound.review import inbound_release
from casedesk.mail.models import InboundMail, OutboundMail
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket, TicketEvent

from .dnszone import Zone, dkim_record, new_key, port_of, private_pem
from .helpers import mail

pytestmark = pytest.mark.django_db(transaction=True)
ALICE_MX, AGENT_MX, EVIL_MX = "192.0.2.10", "198.51.100.7", "203.0.113.66"


@pytest.fixture(scope="module")
def keys():
    return {d: new_key() for d in ("example.org", "supplier.example", "evil.example")}


@pytest.fixture
def zone(settings, keys):
    """The default installation's own check (no trusted MTA), asking our DNS server."""
    zone = Zone()
    for domain, key in keys.items():
        zone.txt(f"sel._domainkey.{domain}", dkim_record(key))
    zone.txt("example.org", f"v=spf1 ip4:{ALICE_MX} -all")
    zone.txt("_dmarc.example.org", "v=DMARC1; p=reject; adkim=s; aspf=s")
    zone.txt("supplier.example", f"v=spf1 ip4:{AGENT_MX} -all")
    zone.txt("_dmarc.supplier.example", "v=DMARC1; p=reject")
    zone.txt("evil.example", f"v=spf1 ip4:{EVIL_MX} -all")
    server = zone.serve()
    settings.CASEDESK_MAIL_AUTHSERV_ID = ""
    settings.CASEDESK_MAIL_DNS_CHECK = True
    settings.CASEDESK_MAIL_DNS_SERVER = f"127.0.0.1:{port_of(server)}"
    settings.CASEDESK_MAIL_DNS_TIMEOUT = 2
    yield zone
    server.stop()


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def signed(raw: bytes, domain: str, keys, selector: bytes = b"sel", **kw) -> bytes:
    raw = crlf(raw)
    heads = [b"from", b"to", b"subject", b"message-id", b"date", b"in-reply-to"]
    return dkim.sign(raw, selector, domain.encode(), private_pem(keys[domain]),
                     include_headers=kw.pop("include_headers", heads), **kw) + raw  # fmt: skip


def deliver(port: int, raw: bytes, *, rcpt="support@gen.example", client="", helo="mx.a.example",
            mail_from="bounce@example.org") -> InboundMail:  # fmt: skip
    """Through the LMTP receiver as Postfix does it, XFORWARD naming its client."""
    with smtplib.LMTP("127.0.0.1", port) as lmtp:
        lmtp.ehlo()
        assert lmtp.has_extn("xforward")
        if client:
            assert lmtp.docmd("XFORWARD", f"ADDR={client} HELO={helo}")[0] == 250
        assert lmtp.sendmail(mail_from, [rcpt], crlf(raw)) == {}
    return InboundMail.objects.order_by("-id").first()


def reply(sender: str, key: str, n, body: str = "It works now.", **headers) -> bytes:
    return mail(sender=sender, subject=f"Re: [{key}] Printer", body=body,
                message_id=f"<r{n}@mail.example>", headers=headers)  # fmt: skip


def waiting(world, ticket) -> Ticket:
    return services.ticket_transition(actor=world.agent, ticket=ticket,
                                      transition="ask_customer", comment="Which one?")  # fmt: skip


def test_a_signed_and_aligned_mail_is_believed(world, desk_mail, lmtp, zone, keys):
    row = deliver(lmtp, signed(mail(subject="Signed", message_id="<s1@example.org>"),
                               "example.org", keys))  # fmt: skip
    assert (row.outcome, row.proven_by, row.sender) == ("created", "dkim", world.alice)
    assert row.ticket.reporter == world.alice
    assert ("sel._domainkey.example.org.", "TXT") in zone.asked  # the key came from DNS
    # SPF: the MTA's client is one the domain names, for an envelope sender of the domain
    row = deliver(lmtp, mail(subject="By SPF", message_id="<s2@example.org>"), client=ALICE_MX)
    assert (row.outcome, row.proven_by) == ("created", "spf")
    assert ("example.org.", "TXT") in zone.asked


def test_a_forged_from_is_held_and_moves_nothing(world, desk_mail, lmtp, zone, keys, ticket):
    t = waiting(world, ticket)
    before = (t.status, t.version, t.last_activity_at, Comment.objects.count())
    forged = {
        "unsigned": reply("alice@example.org", "GEN-1", 1),
        "signed by its own domain": signed(reply("alice@example.org", "GEN-1", 2),
                                           "evil.example", keys),
        "altered after signing": signed(reply("alice@example.org", "GEN-1", 3), "example.org",
                                        keys).replace(b"It works now.", b"Close it now."),
        "signed over part of the body": signed(reply("alice@example.org", "GEN-1", 4, "Hi"),
                                               "example.org", keys, length=True) + b"Added.\r\n",
    }  # fmt: skip
    for name, raw in forged.items():
        row = deliver(lmtp, raw)
        assert (row.outcome, row.proven_by, row.comment_id) == ("held", "", None), name
        assert row.reason.startswith("unverified sender") and row.no_reply, name
    row = deliver(lmtp, reply("alice@example.org", "GEN-1", 6), client=EVIL_MX)
    assert row.outcome == "held"  # SPF does not name that client
    # a second From header beside a valid signature proves nothing
    two = signed(reply("alice@example.org", "GEN-1", 7), "example.org", keys)
    row = deliver(lmtp, two.replace(b"\r\nTo:", b"\r\nFrom: evil@evil.example\r\nTo:", 1))
    assert row.outcome == "held" and "more than one From" in row.reason
    new = deliver(lmtp, mail(subject="New in Alice's name", message_id="<n1@example.org>"))
    assert new.outcome == "held"
    t.refresh_from_db()
    assert (t.status, t.version, t.last_activity_at, Comment.objects.count()) == before
    assert Ticket.objects.count() == 1
    run_once()
    assert not OutboundMail.objects.filter(inbound__isnull=False).exists()


def test_the_desk_may_show_unverified_replies_marked_and_still_nothing_moves(
    world, desk_mail, lmtp, zone, ticket
):
    desk_mail.unverified_senders = "mark"
    desk_mail.full_clean()
    desk_mail.save()
    t = waiting(world, ticket)
    before = (t.status, t.last_activity_at, t.awaiting_reply_since)
    events = TicketEvent.objects.count()
    row = deliver(lmtp, reply("alice@example.org", "GEN-1", 1, "CANARY answer"))
    assert (row.outcome, row.proven_by, row.sender) == ("commented", "", world.alice)
    comment = Comment.objects.get(pk=row.comment_id)
    assert comment.body.startswith("⚠ Unverified sender: this came by mail from alice@example")
    assert "CANARY answer" in comment.body and not comment.internal
    t.refresh_from_db()
    assert (t.status, t.last_activity_at, t.awaiting_reply_since) == before
    assert TicketEvent.objects.count() == events + 1  # the comment, and no transition
    # marked wherever it is read: the portal, the workspace and the API
    from casedesk.api.tokens import token_create

    for person in (world.alice, world.agent):
        browser = Client()
        browser.force_login(person)
        page = browser.get("/tickets/GEN-1/", follow=True).content.decode()
        assert "Unverified sender" in page and "CANARY answer" in page
    _, secret = token_create(actor=world.alice, user=world.alice, name="t", scope="read")
    api = Client().get("/api/v1/tickets/GEN-1/comments",
                       headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert any(c["body"].startswith("⚠ Unverified sender") for c in api.json())
    # never a new ticket, whatever the policy
    assert deliver(lmtp, mail(subject="New", message_id="<n2@example.org>")).outcome == "held"
    assert Ticket.objects.count() == 1


def test_a_forged_staff_sender_is_never_staff(world, desk_mail, lmtp, zone, keys, ticket):
    for policy in ("hold", "mark"):
        desk_mail.unverified_senders = policy
        desk_mail.save()
        for n, sender in enumerate(["agent@supplier.example", "admin@supplier.example",
                                    "outsider@supplier.example"]):  # fmt: skip
            raw = signed(reply(sender, "GEN-1", f"{policy}{n}", "CANARY from staff"),
                         "evil.example", keys)  # fmt: skip
            row = deliver(lmtp, raw)
            assert (row.outcome, row.comment_id) == ("held", None), (policy, sender)
            assert "claims to be staff" in row.reason, (policy, sender)
            # a reviewer cannot let it in as staff either, only as a note of their own
            with pytest.raises(InvalidInput):
                inbound_release(actor=world.lead, mail_id=row.pk)
    assert not Comment.objects.filter(body__contains="CANARY").exists()
    # the real agent, signed by the supplier's domain, comments as staff
    row = deliver(lmtp, signed(reply("agent@supplier.example", "GEN-1", 9, "On it."),
                               "supplier.example", keys))  # fmt: skip
    assert (row.outcome, row.proven_by, Comment.objects.get(pk=row.comment_id).author) == (
        "commented", "dkim", world.agent)  # fmt: skip


def notification_to(smtp, user):
    run_once()
    (sent,) = [m for m in smtp.to(user.email)][-1:]
    return sent["Reply-To"].addresses[0].addr_spec, sent["Message-ID"]


def test_a_reply_to_a_notifications_own_address_is_proof_for_that_ticket_only(
    world, desk_mail, lmtp, zone, smtp, ticket, clock
):
    services.comment_add(actor=world.agent, ticket=ticket, body="Which printer?")
    address, message_id = notification_to(smtp, world.alice)
    raw = reply(
        "alice@example.org", "GEN-1", 1, "The one in hall 2.", **{"In-Reply-To": message_id}
    )
    row = deliver(lmtp, raw.replace(b"To: support@gen.example", f"To: {address}".encode()),
                  rcpt=address)  # fmt: skip
    assert (row.outcome, row.proven_by, row.ticket) == ("commented", "reply address", ticket)
    assert Comment.objects.get(pk=row.comment_id).author == world.alice
    local, _, domain = address.partition("@")
    altered = f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"
    # the same address for another person, another ticket, or a changed one: no proof
    other = services.ticket_create(actor=world.alice, desk=world.desk, title="Second")
    cases = {
        "altered": (altered, "alice@example.org", "GEN-1"),
        "someone else": (address, "amir@example.org", "GEN-1"),
        "another ticket": (address, "alice@example.org", other.key),
    }
    for n, (name, (rcpt, sender, key)) in enumerate(cases.items(), start=2):
        row = deliver(lmtp, reply(sender, key, n, f"CANARY {name}"), rcpt=rcpt)
        assert (row.outcome, row.proven_by, row.comment_id) == ("held", "", None), name
    clock.advance(days=61)  # CASEDESK_MAIL_REPLY_DAYS = 60
    row = deliver(lmtp, reply("alice@example.org", "GEN-1", 9, "CANARY late"), rcpt=address)
    assert (row.outcome, row.proven_by) == ("held", "")
    assert not Comment.objects.filter(body__contains="CANARY").exists()


def test_the_spoofing_attack_of_issue_10_is_refused(world, desk_mail, lmtp, zone, smtp, ticket):
    """The forged mails of the report, against the default installation: a public comment
    as the agent on Alice's ticket (which Alice would then be mailed from the desk's own
    address), one as the superuser, a ticket in Alice's name."""
    run_once()
    mailed = len(smtp.to("alice@example.org"))
    attacks = [
        mail(sender="Agent <agent@supplier.example>", subject="[GEN-1] Solved",
             body="Please log in at http://evil.example", message_id="<a1@evil.example>"),
        mail(sender="admin@supplier.example", subject="[GEN-1] Note",
             body="Send me your password", message_id="<a2@evil.example>"),
        mail(sender="Alice <alice@example.org>", subject="Cancel my contract",
             body="Forged", message_id="<a3@evil.example>"),
    ]  # fmt: skip
    for raw in attacks:
        assert deliver(lmtp, raw, client=EVIL_MX, mail_from="x@evil.example").outcome == "held"
    run_once()
    assert (Ticket.objects.count(), Comment.objects.count()) == (1, 0)
    assert len(smtp.to("alice@example.org")) == mailed


def test_the_mtas_verdict_counts_only_aligned_with_the_from_domain(world, desk_mail, settings):
    from casedesk.mail.inbound.receive import mail_receive

    settings.CASEDESK_MAIL_AUTHSERV_ID = "mx.gen.example"
    cases = {
        "mx.gen.example; spf=pass smtp.mailfrom=bounce@evil.example; dmarc=none": "held",
        "mx.gen.example; dkim=pass header.d=evil.example; dmarc=none": "held",
        "mx.gen.example; dmarc=pass header.from=evil.example": "held",
        "mx.gen.example; dkim=pass header.d=mail.example.org": "created",
        "mx.gen.example; spf=pass smtp.mailfrom=bounce@example.org": "created",
    }
    for i, (results, outcome) in enumerate(cases.items()):
        raw = mail(subject=f"v{i}", headers={"Authentication-Results": results},
                   message_id=f"<v{i}@x.example>")  # fmt: skip
        assert mail_receive(raw, desk=world.desk, transport="test").outcome == outcome, results


def test_a_dns_server_that_does_not_answer_proves_nothing(world, desk_mail, lmtp, settings):
    from .conftest import free_port

    settings.CASEDESK_MAIL_AUTHSERV_ID = ""
    settings.CASEDESK_MAIL_DNS_CHECK = True
    settings.CASEDESK_MAIL_DNS_SERVER = f"127.0.0.1:{free_port()}"
    settings.CASEDESK_MAIL_DNS_TIMEOUT = 0.5
    row = deliver(lmtp, mail(message_id="<dns-down@example.org>"), client=ALICE_MX)
    assert (row.outcome, row.proven_by) == ("held", "")
    assert "DNS" in row.reason and not Ticket.objects.exists()


def test_mail_intake_without_a_proof_source_is_warned_about(settings):
    settings.CASEDESK_MAIL_AUTHSERV_ID = ""
    settings.CASEDESK_MAIL_DNS_CHECK = False
    found = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == NO_PROOF]
    assert len(found) == 1 and "CASEDESK_MAIL_AUTHSERV_ID" in found[0].hint
    # and the mail commands say it as they start
    import io

    from django.core.management import call_command

    err = io.StringIO()
    call_command("mail", "reprocess", "999999", skip_checks=False, stderr=err, stdout=io.StringIO())
    assert NO_PROOF in err.getvalue() and "CASEDESK_MAIL_DNS_CHECK" in err.getvalue()
    settings.CASEDESK_MAIL_DNS_CHECK = True
    assert NO_PROOF not in [m.id for m in checks.run_checks()]
    settings.CASEDESK_MAIL_DNS_CHECK, settings.CASEDESK_MAIL_AUTHSERV_ID = False, "mx.test"
    assert NO_PROOF not in [m.id for m in checks.run_checks()]


def test_the_unverified_mail_policy_is_a_validated_desk_setting_in_the_admin(world, desk_mail):
    desk_mail.unverified_senders = "accept"
    with pytest.raises(ValidationError):
        desk_mail.full_clean()
    browser = Client()
    browser.force_login(world.admin)
    page = browser.get(f"/admin/mail/deskmail/{desk_mail.pk}/change/").content.decode()
    assert 'name="unverified_senders"' in page and 'value="mark"' in page


def test_only_the_lmtp_receiver_takes_xforward(world, desk_mail, zone):
    """Over SMTP the sender talks to Casedesk itself: it cannot claim another client."""
    from casedesk.mail.inbound.server import controller

    from .conftest import free_port

    port = free_port()
    receiver = controller(host="127.0.0.1", port=port, lmtp=False)
    receiver.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo("mx.a.example")
            assert not client.has_extn("xforward")
            assert client.docmd("XFORWARD", f"ADDR={ALICE_MX}")[0] >= 500
            client.sendmail("bounce@example.org", ["support@gen.example"],
                            crlf(mail(message_id="<smtp-x@example.org>")))  # fmt: skip
    finally:
        receiver.stop()
    row = InboundMail.objects.get(message_id="<smtp-x@example.org>")
    assert (row.outcome, row.proven_by, row.envelope["client_ip"]) == ("held", "", "127.0.0.1")


def test_xforward_counts_only_before_the_mail_it_describes(world, desk_mail, lmtp, zone):
    with smtplib.LMTP("127.0.0.1", lmtp) as client:
        client.ehlo()
        assert client.docmd("MAIL", "FROM:<bounce@example.org>")[0] == 250
        assert client.docmd("XFORWARD", f"ADDR={ALICE_MX}")[0] == 501
        client.rset()
        assert client.docmd("XFORWARD", f"ADDR={ALICE_MX}")[0] == 250
        client.sendmail("bounce@example.org", ["support@gen.example"],
                        crlf(mail(subject="one", message_id="<x1@example.org>")))  # fmt: skip
        # the next mail on the same connection has no client until XFORWARD says again
        client.sendmail("bounce@example.org", ["support@gen.example"],
                        crlf(mail(subject="two", message_id="<x2@example.org>")))  # fmt: skip
    rows = {m.subject: m for m in InboundMail.objects.all()}
    assert (rows["one"].outcome, rows["one"].proven_by) == ("created", "spf")
    assert (rows["two"].outcome, rows["two"].proven_by) == ("held", "")
