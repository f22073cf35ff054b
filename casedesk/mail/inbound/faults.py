"""Named points in mail ingestion where tests kill the process (SECURITY-TESTS T90).

Set CASEDESK_MAIL_FAULT=<point> (or <point>:<n>, the n-th time) in a process's
environment and it dies there with SIGKILL, as a crash would. Unset, this does nothing."""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def point(name: str) -> None:
    wanted = os.environ.get("CASEDESK_MAIL_FAULT")
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
