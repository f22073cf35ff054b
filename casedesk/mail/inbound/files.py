"""`casedesk mail import`: the mail of a Maildir or an mbox file, in order. Re-running it
after a crash (or on the same file twice) stores nothing twice: each mail is kept once
per (desk, Message-ID)."""

from __future__ import annotations

import mailbox
from collections import Counter
from pathlib import Path

from django.db import close_old_connections, connection

from .receive import mail_receive
from .route import desk_for_message


def mail_import(path: str | Path, *, desk) -> Counter:
    path = Path(path)
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())  # unique names that start with the delivery time
    elif path.is_file():
        box = mailbox.mbox(path, factory=None, create=False)
        keys = list(box.keys())
    else:
        raise FileNotFoundError(f"no Maildir or mbox at {path}")
    counts: Counter = Counter()
    for key in keys:
        raw = box.get_bytes(key)
        if not connection.in_atomic_block:  # (tests run inside one transaction)
            close_old_connections()
        result = mail_receive(raw, desk=desk_for_message(raw, desk), transport="import")
        counts[result.outcome] += 1
    return counts
