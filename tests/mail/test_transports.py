"""Mail in over real transports: Casedesk's LMTP receiver over a socket, IMAPS polling
against Dovecot, Maildir/mbox import and the MTA pipe; and the crash cases of
SECURITY-TESTS group J (T90-T92)."""

from __future__ import annotations

import mailbox
import os
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from casedesk.mail.inbound import imap, receive
from casedesk.mail.inbound.files import mail_import
from casedesk.mail.inbound.server import controller
from casedesk.mail.models import DeskMail, InboundMail
from casedesk.tickets.models import Comment, Ticket

from . import dovecot
from .conftest import free_port
from .helpers import corpus, mail, vouched

EXE = str(Path(sys.executable).with_name("casedesk"))
needs_dovecot = pytest.mark.skipif(
    not dovecot.available(),
    reason="needs Dovecot (apt-get install dovecot-imapd; .ci/run installs it)",
)


def lmtp_send(port: int, raw: bytes, rcpts: list[str], proven: bool = True) -> dict:
    """As the trusted MTA hands a mail on (with its verdict on top, unless `proven=False`)."""
    client = smtplib.LMTP("127.0.0.1", port)
    try:
        return client.sendmail("sender@example.org", rcpts, vouched(raw) if proven else raw)
    finally:
        client.quit()


@pytest.mark.django_db(transaction=True)
def test_lmtp_stores_a_mail_and_only_then_says_250(world, desk_mail, lmtp, monkeypatch):
    refused = lmtp_send(lmtp, corpus("plain_new.eml"), ["support@gen.example"])
    assert refused == {}
    assert Ticket.objects.get().title == "The label printer stops after ten labels"
    # the MTA retries (it never heard our 250): stored once, and 250 again
    assert lmtp_send(lmtp, corpus("plain_new.eml"), ["support@gen.example"]) == {}
    assert InboundMail.objects.count() == 1
    # unknown recipients are refused at RCPT; a plus address reaches its desk
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        lmtp_send(lmtp, mail(message_id="<n1@x.ex>"), ["nobody@gen.example"])
    assert lmtp_send(lmtp, mail(message_id="<n2@x.ex>"), ["support+x@gen.example"]) == {}

    # a failure before the commit: 451, nothing kept, and the retry stores it once
    def fail(name):
        if name == "before_commit":
            raise RuntimeError("disk full")

    monkeypatch.setattr(receive.faults, "point", fail)
    with pytest.raises(smtplib.SMTPDataError) as refusal:
        lmtp_send(
            lmtp, mail(subject="Retry me", message_id="<retry@x.ex>"), ["support@gen.example"]
        )
    assert refusal.value.smtp_code == 451
    assert not InboundMail.objects.filter(message_id="<retry@x.ex>").exists()
    monkeypatch.undo()
    assert lmtp_send(lmtp, mail(subject="Retry me", message_id="<retry@x.ex>"),
                     ["support@gen.example"]) == {}  # fmt: skip
    assert Ticket.objects.filter(title="Retry me").count() == 1


@pytest.mark.django_db(transaction=True)
def test_lmtp_refuses_a_mail_over_the_limit_before_reading_it(world, desk_mail, settings):
    settings.CASEDESK_MAIL_MAX_BYTES = 50_000
    port = free_port()
    receiver = controller(host="127.0.0.1", port=port, lmtp=True)
    receiver.start()
    try:
        big = mail(body="x" * 80_000, message_id="<big@x.ex>")
        with pytest.raises(smtplib.SMTPException) as refusal:
            lmtp_send(port, big, ["support@gen.example"])
        assert "552" in str(refusal.value)
    finally:
        receiver.stop()
    assert not InboundMail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_corpus_goes_through_the_socket_too(world, desk_mail, lmtp):
    names = sorted(p.name for p in (Path(__file__).parent.parent / "fixtures" / "mail").iterdir())
    for name in names:
        assert lmtp_send(lmtp, corpus(name, sent="<x@y>", root="<x@y>"),
                         ["support@gen.example"]) == {}, name  # fmt: skip
    assert InboundMail.objects.count() == len(names)
    assert not InboundMail.objects.filter(reason__startswith="could not").exists()


def test_a_30_mb_mail_is_stored_and_a_60_mb_mail_refused_with_a_reason(world, desk_mail, smtp):
    import base64

    from casedesk.ops.worker import run_once
    from casedesk.tickets.models import Attachment

    pdf = b"%PDF-1.4\n" + os.urandom(21 * 1024**2)
    raw = mail(subject="Big scan", message_id="<30mb@x.ex>").replace(
        b"Please help.\n", b"Please help.\n"
    )
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alice@example.org", "support@gen.example", "Scan"
    msg["Message-ID"] = "<30mb@x.ex>"
    msg.set_content("The scan is attached.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="scan.pdf")
    raw = msg.as_bytes()
    assert 28 * 1024**2 < len(raw) < 31 * 1024**2
    result = receive.mail_receive(vouched(raw), desk=world.desk, transport="test")
    assert result.outcome == "created"
    assert Attachment.objects.get().size == len(pdf)
    huge = raw + base64.encodebytes(os.urandom(24 * 1024**2))
    result = receive.mail_receive(vouched(huge.replace(b"<30mb@", b"<60mb@")), desk=world.desk,
                                  transport="test")  # fmt: skip
    assert result.outcome == "rejected" and "larger than 40 MB" in result.reason
    run_once()
    refusals = [m for m in smtp.to("alice@example.org") if "not accepted" in m["Subject"]]
    assert len(refusals) == 1


def test_hostile_mime_ends_in_one_state_and_the_next_mail_goes_on(world, desk_mail):
    deep = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for i in range(1, 1000):
        deep += f"--b{i - 1}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n".encode()
    many = b"Content-Type: multipart/mixed; boundary=p\r\n\r\n" + b"".join(
        b"--p\r\nContent-Type: text/plain; name=f%d.txt\r\n\r\nx\r\n" % i for i in range(10_000)
    )
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))
    cases = {
        "deep": b"From: alice@example.org\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n" + deep,
        "parts": b"From: alice@example.org\r\nSubject: parts\r\nMessage-ID: <parts@x>\r\n" + many,
        "headers": headers + b"From: alice@example.org\r\nMessage-ID: <hdrs@x>\r\n\r\nbody",
        "long header": b"Subject: " + b"a" * 1_000_000 + b"\r\nFrom: alice@example.org\r\n\r\nb",
        "comments": b"From: " + b"(" * 100_000 + b"alice@example.org\r\nMessage-ID: <c@x>\r\n\r\n",
        "truncated": corpus("alternative.eml")[:300].replace(b"<alternative@", b"<trunc@"),
        "rfc822 nest": b"From: alice@example.org\r\nMessage-ID: <n50@x>\r\n"
        + b"Content-Type: message/rfc822\r\n\r\n" * 50
        + b"Subject: inner\r\n\r\nhi",
    }
    for name, raw in cases.items():
        result = receive.mail_receive(vouched(raw), desk=world.desk, transport="test")
        assert result.outcome in ("created", "held"), name
    assert InboundMail.objects.count() == len(cases)
    after = receive.mail_receive(
        vouched(mail(message_id="<after@x.ex>")), desk=world.desk, transport="t"
    )
    assert after.outcome == "created"


def test_a_poison_mail_is_held_with_its_error_and_reprocessed_after_a_fix(
    world, desk_mail, monkeypatch
):
    from casedesk.mail.inbound.review import inbound_reprocess

    def broken(*args, **kwargs):
        raise KeyError("a parser bug")

    monkeypatch.setattr(receive, "comment_add", broken)
    monkeypatch.setattr(receive, "ticket_create", broken)
    result = receive.mail_receive(vouched(mail(message_id="<poison@x.ex>")), desk=world.desk,
                                  transport="t")  # fmt: skip
    assert result.outcome == "held" and "could not be processed" in result.reason
    assert not Ticket.objects.exists()
    monkeypatch.undo()
    (again,) = inbound_reprocess([result.mail_id])
    assert again.outcome == "created" and Ticket.objects.count() == 1


def test_import_a_maildir_and_an_mbox_twice_stores_each_mail_once(world, desk_mail, tmp_path):
    names = ["plain_new.eml", "alternative.eml", "html_only.eml"]
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in names:
        box.add(vouched(corpus(name)))
    mbox = mailbox.mbox(tmp_path / "in.mbox", create=True)
    for name in names:
        mbox.add(vouched(corpus(name).replace(b"Message-ID: <", b"Message-ID: <mbox-", 1)))
    mbox.flush()
    assert mail_import(tmp_path / "Maildir", desk=world.desk) == {"created": 3}
    assert mail_import(tmp_path / "Maildir", desk=world.desk) == {"duplicate": 3}
    assert mail_import(tmp_path / "in.mbox", desk=world.desk) == {"created": 3}
    assert Ticket.objects.count() == 6


def test_the_mta_pipe_says_tempfail_when_the_database_is_down(tmp_path):
    port = free_port()  # nothing listens here
    env = {**os.environ, "DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/none",
           "CASEDESK_DATA_DIR": str(tmp_path)}  # fmt: skip
    done = subprocess.run([EXE, "mail", "deliver", "--recipient", "support@gen.example"],
                          input=mail(), env=env, capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 75, done.stderr


def test_the_lmtp_receiver_says_451_when_the_database_is_down(tmp_path):
    port, db_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://nobody@127.0.0.1:{db_port}/none",
           "CASEDESK_DATA_DIR": str(tmp_path)}  # fmt: skip
    server = subprocess.Popen([EXE, "mail", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_for(port, server)
        client = smtplib.LMTP("127.0.0.1", port)
        client.ehlo_or_helo_if_needed = lambda: client.docmd("LHLO", "test")
        client.docmd("LHLO", "test")
        client.mail("a@example.org")
        code, message = client.rcpt("support@gen.example")
        assert code == 451, message
        client.quit()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)


def _wait_for(port, process):
    import socket
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1):
                return
        except OSError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.2)
    raise AssertionError("the receiver did not start")


@pytest.fixture
def imap_server(tmp_path):
    if not dovecot.available():
        pytest.skip("needs Dovecot (apt-get install dovecot-imapd; .ci/run installs it)")
    import shutil
    import tempfile

    # not under pytest's private (0700) directory: Dovecot reads mail as its own user
    base = Path(tempfile.mkdtemp(prefix="casedesk-dovecot-"))
    base.chmod(0o755)
    server = dovecot.Dovecot(base, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@needs_dovecot
def test_imap_polling_takes_mail_in_and_flags_it_after_the_commit(world, desk_mail, imap_server):
    imap_server.append(vouched(corpus("plain_new.eml")), vouched(corpus("html_only.eml")))
    box = imap.Mailbox.from_url(imap_server.url(), dovecot.PASSWORD)
    assert imap.imap_poll(box, desk=world.desk, cafile=imap_server.cafile) == 2
    assert Ticket.objects.count() == 2
    assert all("\\Seen" in f for f in imap_server.flags())
    assert imap.imap_poll(box, desk=world.desk, cafile=imap_server.cafile) == 0
    # a database failure leaves the mailbox as it was
    imap_server.append(vouched(corpus("alternative.eml")))
    from django.db import DatabaseError

    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    original = imap.mail_receive
    imap.mail_receive = down
    try:
        with pytest.raises(DatabaseError):
            imap.imap_poll(box, desk=world.desk, cafile=imap_server.cafile)
    finally:
        imap.mail_receive = original
    assert "\\Seen" not in imap_server.flags()[-1]
    assert imap.imap_poll(box, desk=world.desk, cafile=imap_server.cafile) == 1


@needs_dovecot
def test_imap_refuses_a_server_it_cannot_verify(world, desk_mail, imap_server):
    import ssl

    box = imap.Mailbox.from_url(imap_server.url(), dovecot.PASSWORD)
    with pytest.raises(ssl.SSLError):
        imap.imap_poll(box, desk=world.desk)  # the test certificate is not trusted


# -- crashes (T90): a real process killed with SIGKILL at each point, on PostgreSQL -------


def _subprocess_env(tmp_path, fault: str = "") -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CASEDESK_DATA_DIR": str(tmp_path),
        "CASEDESK_SECRET_KEY": settings.SECRET_KEY,
        "CASEDESK_MAIL_AUTHSERV_ID": settings.CASEDESK_MAIL_AUTHSERV_ID,
        "CASEDESK_MAIL_DNS_CHECK": "off",
    }
    env.pop("CASEDESK_MAIL_FAULT", None)
    if fault:
        env["CASEDESK_MAIL_FAULT"] = fault
    return env


# the 4th mail has an inline image: killed before its commit, its file is on disk already
KILL_POINTS = ["after_fetch:2", "after_parse:2", "before_commit:2", "before_commit:4",
               "after_commit:2", "after_flag:2"]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@needs_dovecot
@pytest.mark.parametrize("fault", KILL_POINTS)
def test_a_poller_killed_anywhere_loses_nothing_and_duplicates_nothing(
    world, desk_mail, imap_server, tmp_path, fault
):
    names = ["plain_new.eml", "alternative.eml", "html_only.eml", "inline_image.eml"]
    imap_server.append(*(vouched(corpus(n)) for n in names))
    command = [EXE, "mail", "poll", "--once", "--desk", "GEN", "--url", imap_server.url(),
               "--cafile", imap_server.cafile]  # fmt: skip
    secret = tmp_path / "imap-password"
    secret.write_text(dovecot.PASSWORD)
    command += ["--password-file", str(secret)]
    crashed = subprocess.run(command, env=_subprocess_env(tmp_path, fault), capture_output=True,
                             timeout=120)  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    done = subprocess.run(command, env=_subprocess_env(tmp_path), capture_output=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert InboundMail.objects.count() == len(names)
    assert Ticket.objects.count() == len(names)
    assert all("\\Seen" in f for f in imap_server.flags())
    # what the worker's hourly sweep does with a file whose row never committed
    from datetime import timedelta

    from casedesk.tickets.attachments import attachment_orphans_remove

    attachment_orphans_remove(older_than=timedelta(0))
    media = Path(tmp_path / "media")
    stored = {p.name for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    from casedesk.tickets.models import Attachment

    assert stored == {Path(a.file.name).name for a in Attachment.objects.all()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["after_parse:3", "before_commit:3", "after_commit:3"])
def test_an_import_killed_anywhere_can_simply_be_run_again(world, desk_mail, tmp_path, fault):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    names = ["plain_new.eml", "alternative.eml", "html_only.eml", "winmail.eml", "bulk.eml"]
    for name in names:
        box.add(vouched(corpus(name)))
    command = [EXE, "mail", "import", "--desk", "GEN", str(tmp_path / "Maildir")]
    crashed = subprocess.run(command, env=_subprocess_env(tmp_path, fault), capture_output=True,
                             timeout=120)  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL
    done = subprocess.run(command, env=_subprocess_env(tmp_path), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert InboundMail.objects.count() == len(names)
    assert Ticket.objects.count() == len(names) - 1  # the bulk mail is recorded only


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_mail_store_it_once(world, desk_mail, lmtp):
    import threading

    raws = [mail(subject=f"m{i}", message_id=f"<c{i}@x.ex>") for i in range(20)]
    errors: list = []

    def deliver(batch):
        try:
            for raw in batch:
                lmtp_send(lmtp, raw, ["support@gen.example"])
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(raws,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert InboundMail.objects.count() == 20 and Ticket.objects.count() == 20
    assert not Comment.objects.exists()


def test_desk_addresses_are_unique_and_lower_case(world):
    DeskMail.objects.create(desk=world.desk, address="Support@GEN.example")
    assert DeskMail.objects.get().address == "support@gen.example"
