"""Whether a mail's From address is proven, and by what. Three sources, tried in order:

1. the receiving MTA's `Authentication-Results`, only from our own server
   (`CASEDESK_MAIL_AUTHSERV_ID`; the MTA must remove such headers with its id from
   incoming mail): DMARC pass for the From domain, or DKIM or SPF pass aligned with it;
   its DMARC fail means the domain itself refuses the mail;
2. Casedesk's own DKIM, SPF and DMARC check through DNS (`dnscheck`);
3. a reply to a notification's reply address with a valid token (`reply_address`): proof
   only that the sender is that recipient answering that ticket, which the caller checks.

A mail with more or fewer than one From header is proven by nothing: a signature may
cover one and the reader see the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from django.conf import settings

from casedesk.common import clock

from ..reply_address import ReplyToken, reply_token_read
from .dnscheck import Envelope, aligned, dns_verdict

_METHOD = re.compile(r"^\s*(spf|dkim|dmarc)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\b(header\.from|header\.d|header\.i|smtp\.mailfrom)\s*=\s*([^\s;]+)", re.I)
_FROM_LINE = re.compile(rb"^from\s*:", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Proof:
    by: str  # "mta", "dkim", "spf", "reply address"; "" when nothing proves the sender
    why: str  # what proved it, or why nothing did
    # forged on its face: the sender's domain refuses it (DMARC fail), or it has several
    # From headers; nothing else may prove it
    failed: bool = False
    token: ReplyToken | None = None


def _domain(value: str) -> str:
    return value.strip().strip("<>").rpartition("@")[2].lower().rstrip(".")


def mta_verdict(results: list[str], from_domain: str) -> tuple[str, str]:
    """("pass" | "fail" | "", why) from our own server's Authentication-Results."""
    ours = settings.CASEDESK_MAIL_AUTHSERV_ID.strip().lower()
    mine = [r for r in results if r.split(";", 1)[0].strip().lower() == ours]
    if not mine:
        return "", "no Authentication-Results from our mail server"
    seen: dict[str, tuple[str, dict[str, str]]] = {}
    for segment in mine[0].split(";")[1:]:
        found = _METHOD.match(segment)
        if found:
            props = {k.lower(): _domain(v) for k, v in _PROPERTY.findall(found.group(3))}
            seen.setdefault(found.group(1).lower(), (found.group(2).lower(), props))
    dmarc, props = seen.get("dmarc", ("", {}))
    if dmarc == "fail":
        return "fail", "DMARC failed at our mail server"
    if dmarc == "pass" and props.get("header.from", from_domain) == from_domain:
        return "pass", "DMARC pass at our mail server"
    result, props = seen.get("dkim", ("", {}))
    signer = props.get("header.d") or props.get("header.i", "")
    if result == "pass" and signer and aligned(signer, from_domain, "r"):
        return "pass", f"DKIM pass for {signer} at our mail server"
    result, props = seen.get("spf", ("", {}))
    mail_from = props.get("smtp.mailfrom", "")
    if result == "pass" and mail_from and aligned(mail_from, from_domain, "r"):
        return "pass", f"SPF pass for {mail_from} at our mail server"
    return "", f"our mail server saw no DMARC, DKIM or SPF pass for {from_domain}"


def _addressed_to(headers: dict[str, str], envelope: Envelope) -> list[str]:
    values = [headers.get(h, "") for h in ("to", "cc", "delivered-to", "x-original-to")]
    return [*envelope.recipients, *(a for _, a in getaddresses(values) if a)]


def domain_proof(raw: bytes, *, address: str, results: list[str], envelope: Envelope) -> Proof:
    """What the MTA's verdict and our own DNS check say of the From domain. Needs no
    database, so it runs before a transaction is opened (its lookups can take seconds)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if len(_FROM_LINE.findall(head)) != 1:
        return Proof("", "the mail has more than one From header", failed=True)
    from_domain = _domain(address)
    reasons = []
    if settings.CASEDESK_MAIL_AUTHSERV_ID.strip():
        verdict, why = mta_verdict(results, from_domain)
        if verdict == "fail":
            return Proof("", why, failed=True)
        if verdict == "pass":
            return Proof("mta", why)
        reasons.append(why)
    if settings.CASEDESK_MAIL_DNS_CHECK:
        found = dns_verdict(raw, from_domain=from_domain, envelope=envelope)
        if found.by:
            return Proof(found.by, found.detail)
        reasons.append(found.detail)
    return Proof("", "; ".join(reasons) or "no proof source is set up")


def proof_of(
    raw: bytes,
    *,
    address: str,
    headers: dict[str, str],
    results: list[str],
    desk_address: str,
    envelope: Envelope,
    checked: Proof | None = None,
) -> Proof:
    """The proof of the sender: `checked` (domain_proof's answer, made earlier) or a fresh
    domain_proof, else a reply address with a valid token."""
    found = checked or domain_proof(raw, address=address, results=results, envelope=envelope)
    if found.by or found.failed:
        return found
    if desk_address:
        token = reply_token_read(
            _addressed_to(headers, envelope), desk_address=desk_address, now=clock.now()
        )
        if token is not None:
            return Proof("reply address", "a reply to its notification's address", token=token)
    return found
