"""Mail that must never be answered, and mail that is not a person writing at all.

`automatic`: the mail itself was made by a machine (an auto-reply, a bounce, bulk mail).
It is recorded, never turned into a ticket or a comment, and never answered.
`no_reply`: a person may have written it, but nothing automatic may answer it (mailing
lists, a sender asking for no auto-responses). Both follow RFC 3834 and common practice.
"""

from __future__ import annotations

from dataclasses import dataclass

MACHINE_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply")


@dataclass(frozen=True)
class Verdict:
    automatic: str = ""  # why the mail is machine-made ("" if it is not)
    no_reply: str = ""  # why it must not be answered ("" if it may be)


def verdict(headers: dict[str, str], sender: str, content_type: str) -> Verdict:
    """`headers`: lower-cased names to their (decoded, first) values."""
    auto = headers.get("auto-submitted", "").strip().lower()
    precedence = headers.get("precedence", "").strip().lower()
    local = sender.split("@", 1)[0].lower()
    machine = ""
    if auto and not auto.startswith("no"):
        machine = f"Auto-Submitted: {auto[:40]}"
    elif precedence in ("bulk", "junk", "auto_reply"):
        machine = f"Precedence: {precedence}"
    elif "x-autoreply" in headers or "x-autorespond" in headers:
        machine = "X-Autoreply"
    elif "return-path" in headers and headers["return-path"].strip() in ("<>", ""):
        machine = "an empty Return-Path (a bounce)"
    if not machine and content_type.startswith("multipart/report"):
        machine = "a delivery report"
    if not machine and (local in MACHINE_SENDERS or local.startswith("mailer-daemon")):
        machine = f"sent by {local}"
    if machine:
        return Verdict(machine, machine)
    quiet = ""
    if "x-auto-response-suppress" in headers:
        quiet = "X-Auto-Response-Suppress"
    elif precedence == "list" or "list-id" in headers or "list-unsubscribe" in headers:
        quiet = "mailing list mail"
    return Verdict("", quiet)
