"""Casedesk's own check of who sent a mail, through DNS: DKIM signatures (dkimpy), SPF for
the connecting client (pyspf) and DMARC's alignment of either with the From domain.

The From address is proven when a DKIM signature that passes was made by the From
domain, or SPF passes for an envelope sender of the From domain, aligned as the domain's
DMARC record asks (`adkim`, `aspf`; relaxed when it has none: same organisational domain,
by the public suffix list). A signature that covers only part of the body (`l=`), or
does not cover From, proves nothing: text or a sender could have been put in after it.
Lookups go to `CASEDESK_MAIL_DNS_SERVER` when set, else to the system's resolver; a lookup
that fails proves nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dkim
import dns.exception
import dns.resolver
import spf
from django.conf import settings
from publicsuffixlist import PublicSuffixList

log = logging.getLogger("casedesk.mail")
_PSL = PublicSuffixList()


@dataclass(frozen=True)
class Envelope:
    """What the transport knows beyond the mail itself (LMTP: MAIL FROM, RCPT TO, and the
    MTA's client through XFORWARD)."""

    mail_from: str = ""
    recipients: tuple[str, ...] = ()
    client_ip: str = ""
    helo: str = ""


@dataclass(frozen=True)
class DnsVerdict:
    by: str  # "dkim" or "spf" when the From domain is proven, else ""
    detail: str


def resolver() -> dns.resolver.Resolver:
    server = settings.CASEDESK_MAIL_DNS_SERVER.strip()
    if not server:
        found = dns.resolver.Resolver()
    else:
        found = dns.resolver.Resolver(configure=False)
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        found.nameservers = [host]
        found.port = int(port or 53)
    found.lifetime = found.timeout = settings.CASEDESK_MAIL_DNS_TIMEOUT
    return found


def _txt(name: str) -> list[bytes]:
    try:
        answer = resolver().resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [b"".join(r.strings) for r in answer]


def _dkim_txt(name: bytes, timeout: float = 5) -> bytes | None:
    try:
        found = _txt(name.decode("ascii"))
    except dns.exception.DNSException:
        return None
    return found[0] if found else None


def _spf_lookup(name, qtype, strict=True, timeout=30):
    """pyspf's DNS function, asking our resolver (pyspf's own asks the system's)."""
    try:
        answer = resolver().resolve(name, qtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    rows = []
    for r in answer:
        if qtype in ("A", "AAAA"):
            rows.append(((name, qtype), r.address))
        elif qtype == "MX":
            rows.append(((name, qtype), (r.preference, r.exchange)))
        elif qtype == "PTR":
            rows.append(((name, qtype), r.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            rows.append(((name, qtype), r.strings))
    return rows


def organisational(domain: str) -> str:
    return _PSL.privatesuffix(domain.lower().rstrip(".")) or domain.lower()


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if mode == "s":
        return domain == from_domain
    return organisational(domain) == organisational(from_domain)


def dmarc_record(from_domain: str) -> dict[str, str]:
    """The tags of the From domain's DMARC record (or its organisational domain's)."""
    for domain in dict.fromkeys([from_domain, organisational(from_domain)]):
        for record in _txt(f"_dmarc.{domain}"):
            text = record.decode("ascii", "replace")
            if text.replace(" ", "").lower().startswith("v=dmarc1"):
                tags = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part)
                return {k.strip().lower(): v.strip().lower() for k, v in tags.items()}
    return {}


def _dkim_passes(raw: bytes) -> list[str]:
    """The d= domains of the DKIM signatures that verify over the whole body."""
    checker = dkim.DKIM(raw, timeout=settings.CASEDESK_MAIL_DNS_TIMEOUT)
    count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    domains = []
    for idx in range(min(count, 5)):
        try:
            if not checker.verify(idx=idx, dnsfunc=_dkim_txt):
                continue
        except dkim.DKIMException as exc:
            log.info("mail: a DKIM signature did not verify: %s", exc)
            continue
        if b"l" in checker.signature_fields or b"from" not in checker.include_headers:
            continue
        domains.append(checker.signature_fields[b"d"].decode("ascii", "replace"))
    return domains


def _spf_pass(envelope: Envelope, from_domain: str) -> str:
    """The envelope sender's domain when SPF passes for the client, else ""."""
    if not envelope.client_ip:
        return ""
    mail_from = envelope.mail_from or f"postmaster@{envelope.helo}"
    spf.DNSLookup = _spf_lookup
    result, _ = spf.check2(i=envelope.client_ip, s=mail_from, h=envelope.helo or from_domain)
    return mail_from.rpartition("@")[2].lower() if result == "pass" else ""


def dns_verdict(raw: bytes, *, from_domain: str, envelope: Envelope) -> DnsVerdict:
    try:
        record = dmarc_record(from_domain)
        signers = _dkim_passes(raw)
        spf_domain = _spf_pass(envelope, from_domain)
    except (dns.exception.DNSException, spf.TempError, spf.PermError) as exc:
        return DnsVerdict("", f"the DNS lookups failed ({type(exc).__name__})")
    for signer in signers:
        if aligned(signer, from_domain, record.get("adkim", "r")):
            return DnsVerdict("dkim", f"DKIM signature of {signer}")
    if spf_domain and aligned(spf_domain, from_domain, record.get("aspf", "r")):
        return DnsVerdict("spf", f"SPF pass for {spf_domain} from {envelope.client_ip}")
    if signers or spf_domain:
        return DnsVerdict("", f"DKIM/SPF passed only for {', '.join([*signers, spf_domain])}"
                              f", not for {from_domain}")  # fmt: skip
    return DnsVerdict("", "no DKIM signature or SPF pass for the From domain")
