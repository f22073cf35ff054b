"""A notification as the bytes handed to an SMTP server, built without the email
package's object tree.

Django's `EmailMultiAlternatives(...).message().as_bytes()` builds a MIME object per part,
sanitises every address, and folds every header through `email.header.Header` (about
twenty per mail), then searches the text for the boundary with a compiled pattern: most
of a sent mail's processor time. Notifications have one shape (a text part, maybe an
HTML alternative, no attachments), so here the same bytes are written directly: each
header value goes through Django's own `forbid_multi_line_headers` (which refuses
newlines and encodes what is not ASCII) and is folded by the same policy the email
package's generator uses, except a short plain ASCII value, which that policy writes
unchanged and is written so here. `tests/mail/test_wire.py` compares the bytes with
Django's for every shape and many header values. Anything else (attachments, a line
longer than SMTP allows, which Django sends quoted-printable) goes through Django.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from email import policy
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)

CRLF = "\r\n"
NLCRE = re.compile(r"\r\n|\r|\n")  # a line end, as the generator finds them
_FOLD = policy.compat32.clone(linesep=CRLF)
# the generator's boundary: fifteen '=', the token in 19 digits, '=='
_WIDTH = len(repr(sys.maxsize - 1))


@dataclass(frozen=True)
class Wire:
    """What `smtplib.SMTP.sendmail` takes: envelope sender, recipients, the message."""

    sender: str
    recipients: list[str]
    data: bytes


def header(name: str, value: str) -> str:
    """`Name: value` and CRLF, as Django's message and the generator write it."""
    if (
        value.isascii()
        and len(name) + len(value) < 76  # shorter than both the fold and Header's limit
        and value == " ".join(value.split())  # one space between words, none around
        and value  # (an empty value is written without the space after the colon)
    ):
        return f"{name}: {value}{CRLF}"
    _, value = forbid_multi_line_headers(name, value, settings.DEFAULT_CHARSET)
    return _FOLD.fold_binary(name, value).decode("ascii")


def _boundary(text: str) -> str:
    # (as the email package makes it: a boundary is not a secret, only unlikely in text)
    token = f"{'=' * 15}{random.randrange(sys.maxsize):0{_WIDTH}d}=="  # noqa: S311
    boundary, counter = token, 0
    while "--" + boundary in text:  # stricter than the generator's line match
        boundary = f"{token}.{counter}"
        counter += 1
    return boundary


def _lines(text: str) -> str:
    """Line ends as the generator writes them: every CR, LF or CRLF becomes CRLF."""
    return CRLF.join(NLCRE.split(text))


def _text_part(body: str, subtype: str) -> tuple[list[str], str]:
    cte = "7bit" if body.isascii() else "8bit"
    headers = [
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}',
        f"MIME-Version: 1.0{CRLF}",
        f"Content-Transfer-Encoding: {cte}{CRLF}",
    ]
    return headers, _lines(body)


def _plain(text: str) -> bool:
    """Whether Django would send this body as it is (not quoted-printable)."""
    return all(
        len(line.encode(errors="surrogateescape")) <= RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in text.splitlines()
    )


# an address with nothing around it, which `parseaddr` gives back as it is
_BARE = re.compile(r"[^\s<>\"(),;:\\\[\]@]+@[^\s<>\"(),;:\\\[\]@]+")


def bare_address(address: str) -> str:
    """The address alone (parsed only when there is more to it than the address)."""
    if _BARE.fullmatch(address):
        return address
    return parseaddr(address)[1]


def envelope_address(address: str) -> str:
    """The address alone, as `smtplib` takes it from what Django's backend passes (a
    domain that is not ASCII in its IDNA form)."""
    if not address.isascii():
        address = sanitize_address(address, settings.DEFAULT_CHARSET)
    return bare_address(address) or address


def wire_of(message: EmailMultiAlternatives) -> Wire | None:
    """The message's bytes, or None when it is not of the one shape written here."""
    alternatives = message.alternatives
    if message.attachments or message.bcc or len(alternatives) > 1:
        return None
    if alternatives and alternatives[0][1] != "text/html":
        return None
    if settings.DEFAULT_CHARSET != "utf-8" or message.encoding not in (None, "utf-8"):
        return None
    body = str(message.body or "")
    html = str(alternatives[0][0]) if alternatives else None
    if html is not None and not body:
        return None  # Django leaves the empty text part out
    if not _plain(body) or (html is not None and not _plain(html)):
        return None
    extra = message.extra_headers
    names = {name.lower() for name in extra}
    if "from" in names or "to" in names or "cc" in names or "reply-to" in names:
        return None
    head: list[str] = []
    text_headers, text = _text_part(body, "plain")
    if html is None:
        head += text_headers
        payload = text
    else:
        html_headers, html_text = _text_part(html, "html")
        parts = ["".join(text_headers) + CRLF + text, "".join(html_headers) + CRLF + html_text]
        boundary = _boundary(parts[0] + parts[1])
        head.append(f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}')
        head.append(f"MIME-Version: 1.0{CRLF}")
        payload = (
            f"--{boundary}{CRLF}{parts[0]}{CRLF}--{boundary}{CRLF}{parts[1]}"
            f"{CRLF}--{boundary}--{CRLF}"
        )
    head.append(header("Subject", str(message.subject)))
    head.append(header("From", str(message.from_email)))
    for name, values in (("To", message.to), ("Cc", message.cc), ("Reply-To", message.reply_to)):
        if values:
            head.append(header(name, ", ".join(str(v) for v in values)))
    if "date" not in names:
        head.append(header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        return None  # every row has its own; Django would make one up
    for name, value in extra.items():
        head.append(header(name, str(value)))
    data = ("".join(head) + CRLF + payload).encode("utf-8", "surrogateescape")
    return Wire(
        sender=envelope_address(str(message.from_email)),
        recipients=[envelope_address(a) for a in message.recipients()],
        data=data,
    )
