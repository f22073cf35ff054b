"""Polling a mailbox over IMAP (IMAPS by default). A message is flagged (or deleted, or
moved) only after its mail is committed; a crash in between leaves it unflagged, it is
fetched again, and the unique Message-ID makes that second time a no-op."""

from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from django.db import close_old_connections, connection

from . import faults
from .receive import mail_receive
from .route import desk_for_message

log = logging.getLogger("casedesk.mail")


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    folder: str
    secure: bool

    @classmethod
    def from_url(cls, url: str, password: str = "") -> Mailbox:
        parts = urlparse(url)
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError("the mailbox is imaps://user@host[:port]/folder (or imap://)")
        secure = parts.scheme == "imaps"
        return cls(
            host=parts.hostname or "",
            port=parts.port or (993 if secure else 143),
            user=unquote(parts.username or ""),
            password=password or unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            secure=secure,
        )


def _connect(box: Mailbox, cafile: str | None) -> imaplib.IMAP4:
    conn: imaplib.IMAP4
    if box.secure:
        context = ssl.create_default_context(cafile=cafile)
        conn = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=60)
    else:
        conn = imaplib.IMAP4(box.host, box.port, timeout=60)
    conn.login(box.user, box.password)
    typ, _ = conn.select(_quote(box.folder))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"no folder {box.folder}")
    return conn


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_poll(
    box: Mailbox, *, desk, after: str = "seen", cafile: str | None = None, batch: int = 100
) -> int:
    """Take in up to `batch` new messages; returns how many were handled. `after`: seen
    (flag \\Seen), delete (\\Deleted and expunge) or move:<folder>."""
    conn = _connect(box, cafile)
    handled = 0
    try:
        criteria = "UNSEEN UNDELETED" if after == "seen" else "UNDELETED"
        typ, data = conn.uid("SEARCH", criteria)
        found = (data[0] or b"").split()[:batch] if typ == "OK" else []
        for uid in (u.decode() for u in found):
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in fetched if isinstance(p, tuple)), None)
            if typ != "OK" or raw is None:
                log.warning("imap: message %s could not be fetched", uid)
                continue
            faults.point("after_fetch")
            if not connection.in_atomic_block:  # (tests run inside one transaction)
                close_old_connections()
            result = mail_receive(raw, desk=desk_for_message(raw, desk), transport="imap")
            # committed: only now may the mailbox forget it
            if after == "seen":
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            elif after == "delete":
                conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
            elif after.startswith("move:"):
                conn.uid("COPY", uid, _quote(after[5:]))
                conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
            faults.point("after_flag")
            handled += 1
            log.info("imap: message %s: %s", uid, result.outcome)
        if after != "seen" and found:
            conn.expunge()
    finally:
        try:
            conn.logout()
        except Exception:  # the connection may already be gone; nothing to keep
            log.debug("imap: logout failed", exc_info=True)
    return handled
