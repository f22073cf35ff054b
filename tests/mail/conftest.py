"""Mail tests talk to real servers: an aiosmtpd SMTP server started here receives what
Casedesk sends, and mail comes in through Casedesk's own receiver over a socket."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email import policy

import pytest
from aiosmtpd.controller import Controller


@pytest.fixture(autouse=True)
def _mail_consumer_on(app_consumers):
    """Outside tests/mail the apps' outbox consumers are off (tests/conftest.py); here
    mail is what is tested, so its consumer runs."""
    return app_consumers


MTA = "mx.test"  # the authserv-id of the MTA these tests trust


@pytest.fixture(autouse=True)
def _trusted_mta(settings):
    """Mail here comes from an MTA whose verdict Casedesk trusts (tests vouch for a mail
    with helpers.vouched); its own DNS check is off except where a test serves DNS."""
    settings.CASEDESK_MAIL_AUTHSERV_ID = MTA
    settings.CASEDESK_MAIL_DNS_CHECK = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sink:
    """What the SMTP server received, and switches to make it misbehave."""

    received: list = field(default_factory=list)
    refuse: str = ""  # an SMTP reply to give to every RCPT, e.g. "451 try later"
    drop_after_data: int = 0  # hang up instead of answering DATA, this many times
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_after_data:
            self.drop_after_data -= 1
            server.transport.close()
            return "421 closing"
        with self.lock:
            self.received.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted"

    def messages(self):
        return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in self.received]

    def to(self, address: str):
        return [
            email.message_from_bytes(raw, policy=policy.default)
            for _, rcpts, raw in self.received
            if address in rcpts
        ]


@pytest.fixture
def lmtp(db):
    """Casedesk's own LMTP receiver on a free port."""
    from casedesk.mail.inbound.server import controller

    port = free_port()
    receiver = controller(host="127.0.0.1", port=port, lmtp=True)
    receiver.start()
    try:
        yield port
    finally:
        receiver.stop()


@pytest.fixture
def smtp(settings):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.CASEDESK_SMTP_URL = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def desk_mail(world):
    from casedesk.mail.models import DeskMail

    return DeskMail.objects.create(
        desk=world.desk, address="support@gen.example", display_name="GEN Support"
    )


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
