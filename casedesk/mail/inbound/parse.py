"""Reading a received mail: headers decoded whatever their charset, the text a person
wrote (HTML-only mail made readable), and every file part, inline images and the files
inside a winmail.dat included. Limits on depth and number of parts keep hostile MIME
cheap; anything unreadable becomes a note, never an exception."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from itertools import islice

from .htmltext import html_to_text

MAX_DEPTH = 20
MAX_PARTS = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "message/rfc822": ".eml",
    "text/html": ".html",
    "text/calendar": ".ics",
}


@dataclass
class Part:
    name: str
    data: bytes
    content_type: str
    content_id: str = ""
    inline: bool = False


@dataclass
class Parsed:
    message_id: str
    subject: str
    from_header: str | None
    headers: dict[str, str]
    in_reply_to: str
    references: str
    authentication_results: list[str]
    content_type: str
    text: str = ""
    html_only: bool = False
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset that may be wrong, unknown or missing."""
    for candidate in (charset, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("utf-8", errors="replace")


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def header_text(value: str | None) -> str:
    """A header's value as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8 (or
    Windows-1252), control characters removed, folded to one line."""
    if value is None:
        return ""
    value = str(value)
    try:
        pieces = decode_header(value)
    except Exception:
        pieces = [(value, None)]
    out = []
    for piece, charset in pieces:
        if isinstance(piece, bytes):
            out.append(decode_bytes(piece, charset))
        else:
            out.append(piece)
    text = "".join(out)
    if any("\udc80" <= c <= "\udcff" for c in text):  # undecoded 8-bit bytes
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")
    return " ".join(_CONTROL.sub(" ", text).replace("\n", " ").split())


def _raw_headers(msg: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in islice(msg.raw_items(), 2000):  # raw values: no parser that could raise
        key = str(name).strip().lower()
        if key not in headers:
            headers[key] = str(value)[:20_000]
    return headers


def _message_id(raw_value: str, msg_headers: dict[str, str], body: bytes) -> str:
    found = re.search(r"<([^<>\s]{1,400})>", raw_value or "")
    if found:
        return f"<{found.group(1)}>"
    if raw_value and raw_value.strip() and len(raw_value.strip()) <= 400:
        return f"<{raw_value.strip()}>"
    # no Message-ID: the same mail delivered twice still has the same date, sender,
    # subject and body
    digest = hashlib.sha256()
    for name in ("date", "from", "subject"):
        digest.update(msg_headers.get(name, "").encode("utf-8", "surrogateescape") + b"\0")
    digest.update(body)
    return f"hash:{digest.hexdigest()}"


def _walk(msg: Message, notes: list[str]):
    """Leaf parts, depth first, without recursion; at most MAX_PARTS of them."""
    stack = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            notes.append(f"more than {MAX_PARTS} MIME parts: the rest was not read")
            return
        if part.is_multipart() and part.get_content_maintype() != "message":
            if depth >= MAX_DEPTH:
                notes.append(f"MIME nested deeper than {MAX_DEPTH}: the rest was not read")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, Message))
            continue
        yield part


def _payload(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            first = inner[0]
            if isinstance(first, Message):
                try:
                    return first.as_bytes()
                except Exception:  # noqa: S110 (a broken inner mail is kept as text below)
                    pass
            return str(first).encode("utf-8", "replace")
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _filename(part: Message) -> str:
    name: str | None
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            param = part.get_param("name")
            if isinstance(param, tuple):  # RFC 2231: (charset, language, value)
                name = codecs.decode(param[2].encode("latin-1"), param[0] or "utf-8", "replace")
            else:
                name = param
        except Exception:
            name = None
    return header_text(name) if name else ""


def _tnef(data: bytes, notes: list[str]) -> tuple[list[Part], str]:
    try:
        from tnefparse import TNEF

        tnef = TNEF(data)
    except Exception as exc:
        notes.append(f"winmail.dat could not be read ({type(exc).__name__})")
        return [], ""
    found = []
    for attachment in tnef.attachments[:MAX_PARTS]:
        try:
            name = attachment.long_filename() or attachment.name
        except Exception:
            name = attachment.name
        found.append(Part(name or "attachment", bytes(attachment.data), "application/octet-stream"))
    body = ""
    if getattr(tnef, "body", None):
        body = decode_bytes(tnef.body if isinstance(tnef.body, bytes) else b"", None)
    return found, body


def parse(raw: bytes) -> Parsed:
    msg = message_from_bytes(raw, policy=policy.compat32)
    headers = _raw_headers(msg)
    head_end = raw.find(b"\r\n\r\n")
    head_end = raw.find(b"\n\n") if head_end < 0 else head_end
    body_bytes = raw[head_end:] if head_end >= 0 else b""
    auth = [str(v) for k, v in msg.raw_items() if str(k).lower() == "authentication-results"]
    parsed = Parsed(
        message_id=_message_id(headers.get("message-id", ""), headers, body_bytes),
        subject=header_text(headers.get("subject"))[:500],
        from_header=header_text(headers["from"]) if "from" in headers else None,
        headers={k: header_text(v)[:500] for k, v in headers.items()},
        in_reply_to=headers.get("in-reply-to", "")[:5000],
        references=headers.get("references", "")[:20000],
        authentication_results=auth[:10],
        content_type=msg.get_content_type(),
    )
    for defect in getattr(msg, "defects", [])[:5]:
        parsed.notes.append(f"malformed: {type(defect).__name__}")
    plain: list[str] = []
    html: list[str] = []
    parts: list[Part] = []
    for part in _walk(msg, parsed.notes):
        ctype = part.get_content_type()
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:
            disposition = ""
        name = _filename(part)
        data = _payload(part)
        is_body = not name and disposition != "attachment"
        if is_body and ctype == "text/plain":
            plain.append(decode_bytes(data, part.get_content_charset()))
            continue
        if is_body and ctype == "text/html":
            html.append(decode_bytes(data, part.get_content_charset()))
            continue
        if ctype == "application/ms-tnef" or name.lower() == "winmail.dat":
            found, body = _tnef(data, parsed.notes)
            parts.extend(found)
            if body:
                plain.append(body)
            continue
        if not name:
            name = f"part-{len(parts) + 1}{EXTENSIONS.get(ctype, '.bin')}"
        cid = (part.get("Content-ID") or "").strip().strip("<>")[:300]
        parts.append(Part(name, data, ctype, cid, disposition == "inline" or bool(cid)))
    cid_names = {p.content_id: p.name for p in parts if p.content_id}
    if plain:
        parsed.text = "\n\n".join(clean_text(t).strip() for t in plain if t.strip())
    elif html:
        parsed.text = html_to_text(clean_text("\n".join(html)), cid_names)
        parsed.html_only = True
    parsed.parts = parts
    return parsed
