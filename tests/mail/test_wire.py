"""The bytes `wire.py` writes for a mail are the bytes Django's message would give, for
every shape it writes and for header values on both sides of each folding rule; other
shapes are left to Django."""

from __future__ import annotations

import random
import re
from email.utils import parseaddr

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import BadHeaderError, sanitize_address

from casedesk.mail.outbound.wire import header, wire_of

DATE = re.compile(rb"^Date: [^\r]*\r\n", re.MULTILINE)


def django_bytes(message: EmailMultiAlternatives) -> bytes:
    return message.message().as_bytes(linesep="\r\n")


def same(message: EmailMultiAlternatives) -> bytes:
    random.seed(7)  # the same boundary token on both sides
    ours = wire_of(message)
    assert ours is not None
    random.seed(7)
    theirs = django_bytes(message)
    assert DATE.sub(b"Date: -\r\n", ours.data) == DATE.sub(b"Date: -\r\n", theirs)
    assert DATE.search(ours.data)
    encoding = "utf-8"
    assert ours.sender == parseaddr(sanitize_address(message.from_email, encoding))[1]
    assert ours.recipients == [
        parseaddr(sanitize_address(a, encoding))[1] for a in message.recipients()
    ]
    return ours.data


def mail(**kwargs) -> EmailMultiAlternatives:
    html = kwargs.pop("html", "<p>Hello</p>\n")
    fields = {
        "subject": "[SDA-12] The printer is out of paper",
        "body": "Hello,\n\nthe roller is on its way.\n",
        "from_email": "Support <support@desk.example>",
        "to": ["customer@example.org"],
        "headers": {"Message-ID": "<cd.12.abc@desk.example>", "X-Loop": "casedesk@desk.example"},
    }
    fields.update(kwargs)
    message = EmailMultiAlternatives(**fields)
    if html is not None:
        message.attach_alternative(html, "text/html")
    return message


SUBJECTS = [
    "",
    "x",
    "[SDA-12] Ny kommentar på din sag",
    "Požadavek SDA-12 byl vyřešen",
    "two  spaces",
    " leading",
    "trailing ",
    "a\ttab",
    "=?utf-8?q?looks_encoded?=",
    "semi;colon, comma and (parens) <angle>",
    *("y" * n for n in range(60, 82)),
    "word " * 40,
    "ord " * 30 + "på",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_of_every_length_and_script(subject):
    same(mail(subject=subject))


ADDRESSES = [
    "support@desk.example",
    "Support <support@desk.example>",
    '"Support, second line" <support@desk.example>',
    "Kundeservice Støtte <support@desk.example>",
    "Zákaznická podpora <podpora@desk.example>",
    "kunde@bøger.example",
    "A Very Long Display Name Of A Desk That Goes On And On <support@desk.example>",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_senders_recipients_and_reply_addresses(address):
    same(mail(from_email=address))
    same(mail(to=[address]))
    same(mail(to=["a@example.org", address], cc=[address, "c@example.org"]))
    same(mail(reply_to=[address]))


BODIES = [
    "",
    "one line without an end",
    "Hej,\n\nder er en ny kommentar på din sag.\n",
    "windows\r\nline\r\nends\r\n",
    "old mac\rline ends\r",
    "a line that looks like a boundary\n--===============0000000000000000007==\n",
    "=" * 998 + "\n",
    "form\x0cfeed and\u2028line separator\n",
    "\n\n\n",
]


@pytest.mark.parametrize("body", BODIES)
def test_bodies_with_and_without_html(body):
    if body:
        same(mail(body=body))
    same(mail(body=body, html=None))
    same(mail(body="text", html=body or "<p/>"))


def test_the_headers_a_notification_carries():
    references = " ".join(f"<cd.12.{n:016x}@desk.example>" for n in range(6))
    data = same(
        mail(
            reply_to=["support+r12-3-1-abc@desk.example"],
            headers={
                "Message-ID": "<cd.12.m0123456789abcdef0123456789abcdef@desk.example>",
                "X-Loop": "casedesk@desk.example",
                "In-Reply-To": "<cd.12.0000000000000000@desk.example>",
                "References": references,
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
                "List-Unsubscribe": "<https://desk.example/mail/preferences/>",
            },
        )
    )
    assert b"\r\nReferences: <cd.12.0000000000000000@desk.example>\r\n <cd.12." in data


def test_a_short_plain_value_is_written_as_the_fold_writes_it():
    for value in ["a", "a b", "x" * 60, "<id@host>", "All", "a,b;c", "auto-generated"]:
        assert header("X-Test", value) == f"X-Test: {value}\r\n"


def test_a_newline_in_a_header_is_refused_as_django_refuses_it():
    with pytest.raises(BadHeaderError):
        django_bytes(mail(subject="Hi\nBcc: victim@example.org"))
    with pytest.raises(BadHeaderError):
        wire_of(mail(subject="Hi\nBcc: victim@example.org"))


def test_other_shapes_are_left_to_django():
    with_file = mail()
    with_file.attach("a.txt", "text", "text/plain")
    assert wire_of(with_file) is None
    assert wire_of(mail(body="x" * 999)) is None  # Django sends it quoted-printable
    assert wire_of(mail(body="", html="<p>only html</p>")) is None
    assert wire_of(mail(bcc=["b@example.org"])) is None
    assert wire_of(mail(headers={"X-Loop": "x"})) is None  # no Message-ID of its own


def test_an_address_is_taken_as_it_is_only_where_parsing_gives_it_back_unchanged():
    from email.utils import parseaddr

    from casedesk.mail.outbound.wire import bare_address

    chars = "aZ09.-_+=!#$%&*/?^`{|}~'\"<>(),;:[]@ \t\\"
    draw = random.Random(15)
    for _ in range(20000):
        word = "".join(draw.choice(chars) for _ in range(draw.randint(1, 6)))
        other = "".join(draw.choice(chars) for _ in range(draw.randint(1, 6)))
        address = f"{word}@{other}"
        assert bare_address(address) == parseaddr(address)[1], address
    assert bare_address("Support <s@desk.example>") == "s@desk.example"
