"""Reading the corpus (tests/fixtures/mail) and making mail for tests."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mail"


def corpus(name: str, **values: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"@@{key.upper()}@@".encode(), value.encode())
    return raw


def mail(
    *,
    sender: str = "Alice <alice@example.org>",
    to: str = "support@gen.example",
    subject: str = "Help",
    body: str = "Please help.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    if message_id is not False:
        msg["Message-ID"] = message_id or f"<{abs(hash((sender, subject, body)))}@example.org>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def vouched(raw: bytes, by: str = "mx.test") -> bytes:
    """The mail as the trusted MTA hands it on: with its DMARC pass on top."""
    return f"Authentication-Results: {by}; dmarc=pass\r\n".encode() + raw
