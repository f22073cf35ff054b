"""Taking in one received mail, exactly once.

`mail_receive` stores the raw mail and what became of it in one transaction: a row per
(desk, Message-ID) under a unique constraint, so a second delivery of the same mail
(an MTA retry, an IMAP refetch, a second poller) finds it there and does nothing. The
transports acknowledge a mail only after this returned, i.e. after the commit; a crash
before that leaves nothing behind and the mail is delivered again.

What becomes of a mail, in order: our own mail coming back is dropped; machine-made mail
(auto-replies, bounces, bulk) is recorded and linked to its ticket, never answered; an
unreadable or ambiguous sender, a sender's domain that refuses the mail (DMARC fail) or
too many mails from one sender in an hour is held for staff; a sender nothing proves
(proof.py) meets the desk's policy for unverified mail: held, or a customer's reply shown
on its ticket marked unverified, moving nothing; never as staff, never a new ticket. A
known person's proven reply lands on the ticket it answers, if they may see it; anything
else from a proven customer opens a ticket in their organisation; strangers meet the
desk's policy. A mail that breaks the code is held with the error, never lost, and the
next mail goes on.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from casedesk.accounts.models import User
from casedesk.common import clock
from casedesk.common.errors import CasedeskError, Problem
from casedesk.common.files import FileRefused, clean_name, kind_of
from casedesk.tickets.attachments import BytesUpload, Upload, attachment_add
from casedesk.tickets.inputs import MAX_TEXT, MAX_TITLE
from casedesk.tickets.services import comment_add, ticket_create
from casedesk.web.messages import say, say_whole

from ..addresses import AddressError, sender_from
from ..models import DeskMail, InboundMail, OutboundMail
from ..outbound import compose
from ..outbound.send import loop_marker
from ..threading import is_ours, new_message_id
from . import faults
from .dnscheck import Envelope
from .identity import contact_for, identify
from .loops import verdict
from .parse import Parsed, parse
from .proof import Proof, domain_proof, proof_of
from .thread import thread_of
from .trim import reply_text

log = logging.getLogger("casedesk.mail")
Outcome = InboundMail.Outcome
BATCH = 20  # files per service call (CASEDESK_MAX_ATTACHMENTS)
MAX_FILES = 100
_PREFIX = re.compile(r"^\s*((re|fw|fwd|sv|vs|aw|wg|antw|odp|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Received:
    outcome: str
    reason: str = ""
    mail_id: int | None = None
    ticket_key: str = ""
    duplicate: bool = False


def desk_for_address(address: str):
    """The desk a recipient address belongs to; `desk+anything@` counts as `desk@`."""
    address = (address or "").strip().strip("<>").lower()
    local, _, domain = address.rpartition("@")
    candidates = {address, f"{local.split('+', 1)[0]}@{domain}"}
    found = DeskMail.objects.filter(address__in=candidates).select_related("desk").first()
    return found.desk if found else None


def _uploads(parsed: Parsed, notes: list[str]) -> list[Upload]:
    limit = settings.CASEDESK_MAX_ATTACHMENT_BYTES
    kept: list[Upload] = []
    for part in parsed.parts:
        name = clean_name(part.name)
        if len(kept) >= MAX_FILES:
            notes.append(f"more than {MAX_FILES} files: {name} and the rest were not kept")
            break
        if len(part.data) > limit:
            notes.append(f"{name}: larger than {limit // 1024**2} MB, not kept")
            continue
        try:
            kind_of(name, part.data[:2048])
        except FileRefused as exc:
            notes.append(say(Problem(exc.code, name=name, **exc.params), "en") + " Not kept.")
            continue
        kept.append(BytesUpload(name, part.data))
    return kept


def _title(subject: str, key_prefix: str) -> str:
    title = _PREFIX.sub("", subject or "")
    title = re.sub(rf"\[{re.escape(key_prefix)}-\d+\]", "", title).strip()
    return (title or "(no subject)")[:MAX_TITLE]


def _text(text: str, notes: list[str]) -> str:
    if len(text) > MAX_TEXT:
        notes.append(f"the text was longer than {MAX_TEXT} characters and was cut")
        return text[: MAX_TEXT - 20].rstrip() + "\n[…]"
    return text


def _refuse(row: InboundMail, reason: str, address: str) -> None:
    """A polite refusal: at most one per address a day, never to machine-made mail."""
    if row.no_reply or not address:
        return
    since = clock.now() - timedelta(days=1)
    if OutboundMail.objects.filter(kind="refusal", address=address, created_at__gte=since).exists():
        return
    content = compose.refusal(reason=reason, desk=row.desk)
    sender, _ = compose.sender_of(row.desk)
    refs = row.message_id if row.message_id.startswith("<") else ""
    OutboundMail.objects.create(
        desk=row.desk,
        inbound=row,
        kind="refusal",
        key=f"refusal:{row.pk}",
        to=[address],
        from_address=sender,
        subject=content.subject,
        body_text=content.text,
        body_html=content.html,
        message_id=new_message_id(None),
        in_reply_to=refs,
        references=refs,
        automatic=True,
        created_at=clock.now(),
    )


_OUR_IDS = re.compile(rb"<(cd\.\d{1,19}\.m[0-9a-f]{32}@[^<>\s]{1,200})>")
_DSN_STATUS = re.compile(rb"^Status:\s*([245])\.\d{1,3}\.\d{1,3}", re.MULTILINE | re.IGNORECASE)


def _is_bounce(parsed: Parsed, address: str) -> bool:
    local = address.split("@", 1)[0].lower()
    return (
        parsed.content_type == "multipart/report"
        or local in ("mailer-daemon", "postmaster")
        or parsed.headers.get("return-path", "x").strip() in ("<>", "")
    )


def _bounced(raw: bytes, desk) -> list[OutboundMail]:
    """Our sent mail that a delivery report says could not be delivered, marked failed so
    staff see it (a delay report, 4.x.x, only leaves a note)."""
    ids = {f"<{m.decode('ascii', 'replace')}>" for m in _OUR_IDS.findall(raw[:2_000_000])}
    if not ids:
        return []
    rows = list(OutboundMail.objects.filter(message_id__in=ids, desk=desk).select_related("ticket"))
    status = _DSN_STATUS.search(raw)
    if status and status.group(1) == b"5":
        for row in rows:  # held like a mail that could not be sent, so staff may send it again
            row.status, row.held_at = OutboundMail.Status.FAILED, clock.now()
            row.last_error = f"bounced: {status.group(0).decode('ascii', 'replace')}"
            row.save(update_fields=["status", "last_error", "held_at", "address"])
            log.warning("mail %s to %s bounced", row.pk, row.to)
    return rows


def _add_files(actor, ticket, uploads: list[Upload]) -> None:
    for start in range(0, len(uploads), BATCH):
        attachment_add(
            actor=actor, ticket=ticket, uploads=uploads[start : start + BATCH], channel="mail"
        )


def _comment_body(parsed: Parsed, uploads: Sequence[Upload], notes: list[str]) -> str:
    body, trimmed = reply_text(parsed.text)
    if trimmed:
        notes.append("quoted text and signature were cut (the original is kept)")
    if not body and not uploads:
        body = parsed.text.strip() or "(empty mail)"
    return _text(body, notes)


def _proof(row: InboundMail, parsed: Parsed, address: str, thread, sender, checked) -> Proof:
    config = getattr(row.desk, "mail", None)
    proof = proof_of(
        bytes(row.raw),
        address=address,
        headers=parsed.headers,
        results=parsed.authentication_results,
        desk_address=config.address if config else "",
        envelope=Envelope(**{k: tuple(v) if k == "recipients" else v  # type: ignore[arg-type]
                             for k, v in (row.envelope or {}).items()}),
        checked=checked,
    )  # fmt: skip
    token = proof.token
    if token is None:
        return proof
    if sender is None or sender.pk != token.user_id:
        return Proof("", "its reply address was given to someone else")
    if thread.ticket is None or thread.ticket.pk != token.ticket_id:
        return Proof("", "its reply address is for another ticket")
    return proof


def _claims_staff(sender, address: str) -> bool:
    if sender is not None:
        return sender.is_supplier_staff
    return User.objects.filter(email__iexact=address, kind="staff").exists()


def _unproven(row: InboundMail, parsed: Parsed, proof: Proof, sender, thread, base, held):
    """A mail nothing proves the sender of: held, or (when the desk says so) a known
    customer's reply shown on its ticket, marked, moving nothing."""
    held = {**held, "no_reply": True, "reason": f"unverified sender: {proof.why}"}
    config = getattr(row.desk, "mail", None)
    policy = config.unverified_senders if config else DeskMail.UnverifiedSenders.HOLD
    if _claims_staff(sender, row.from_address):
        return {**held, "reason": f"unverified sender that claims to be staff: {proof.why}"}
    if policy != DeskMail.UnverifiedSenders.MARK or sender is None or thread.ticket is None:
        return held
    notes = base["notes"]
    uploads = _uploads(parsed, notes)
    lang = thread.ticket.workflow.workflow.languages[0]
    with translation.override(lang if lang in compose.LANGUAGES else "en"):
        mark = _("Unverified sender: this came by mail from %(address)s, and nothing proves "
                 "that they sent it.") % {"address": row.from_address}  # fmt: skip
    comment = comment_add(
        actor=sender,
        ticket=thread.ticket,
        body=f"⚠ {mark}\n\n{_comment_body(parsed, uploads, notes)}",
        attachments=uploads[:BATCH],
        channel="mail",
        moves_ticket=False,
    )
    _add_files(sender, thread.ticket, uploads[BATCH:])
    return {**base, "outcome": Outcome.COMMENTED, "ticket": thread.ticket, "comment": comment,
            "no_reply": True, "reason": f"marked unverified: {proof.why}"}  # fmt: skip


def process(
    row: InboundMail, parsed: Parsed, *, checks: bool = True, checked: Proof | None = None
) -> dict:
    """Decide and do what this mail means; returns the fields to set on its row. Raises
    (and so rolls back its savepoint) when a service refuses. `checks=False` is a staff
    member's release: their word stands for the proof, except for mail claiming staff."""
    desk = row.desk
    notes = list(parsed.notes)
    try:
        address, name = sender_from(parsed.from_header)
        address_problem = ""
    except AddressError as exc:
        address, name, address_problem = "", "", str(exc)
    headers = parsed.headers
    ours = headers.get("x-loop", "").strip().lower() == loop_marker()
    if ours or is_ours(parsed.message_id) or DeskMail.objects.filter(address=address).exists():
        return {"outcome": Outcome.DROPPED, "reason": "our own mail came back", "no_reply": True}
    found = verdict(headers, address, parsed.content_type)
    no_reply = bool(found.no_reply)
    sender, ambiguous = identify(address, desk) if address else (None, False)
    thread = thread_of(
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        subject=parsed.subject,
        desk=desk,
        sender=sender,
        address=address,
    )
    base = {"no_reply": no_reply, "notes": notes, "sender": sender}
    if found.automatic:
        bounced = _bounced(bytes(row.raw), desk) if _is_bounce(parsed, address) else []
        if bounced:
            notes.append(f"a bounce of our mail {', '.join(str(m.pk) for m in bounced)}")
        ticket = thread.ticket or (bounced[0].ticket if bounced else None)
        return {**base, "outcome": Outcome.AUTOMATIC, "reason": found.automatic,
                "ticket": ticket}  # fmt: skip
    held = {**base, "outcome": Outcome.HELD, "ticket": thread.ticket}
    if address_problem:
        return {**held, "reason": f"sender: {address_problem}", "no_reply": True}
    proof = _proof(row, parsed, address, thread, sender, checked)
    base["proven_by"] = held["proven_by"] = proof.by
    if proof.failed:
        return {**held, "reason": f"unverified sender: {proof.why}", "no_reply": True}
    if checks:
        limit = getattr(getattr(desk, "mail", None), "sender_limit_per_hour", 30)
        recent = InboundMail.objects.filter(
            desk=desk, from_address=address, received_at__gte=row.received_at - timedelta(hours=1)
        ).exclude(pk=row.pk)
        if recent.count() >= limit:
            log.warning("mail: more than %d mails in an hour from %s; held", limit, address)
            return {**held, "reason": f"more than {limit} mails in an hour from this sender"}
    if ambiguous:
        return {**held, "reason": "several people have this address"}
    if not proof.by and (checks or _claims_staff(sender, address)):
        return _unproven(row, parsed, proof, sender, thread, base, held)
    if not proof.by:
        notes.append(f"released by staff without proof of the sender ({proof.why})")
    if sender is None:
        config = getattr(desk, "mail", None)
        policy = config.unknown_senders if config else DeskMail.UnknownSenders.HOLD
        if thread.adhoc and thread.claimed is not None:
            key = thread.claimed.key
            return {**held, "ticket": thread.claimed, "reason": f"a reply to a mail from {key}"}
        if policy == DeskMail.UnknownSenders.REJECT:
            row.no_reply = no_reply
            _refuse(row, "unknown", address)
            return {**base, "outcome": Outcome.REJECTED, "reason": "unknown sender"}
        if (
            policy != DeskMail.UnknownSenders.OPEN
            or config is None
            or config.contact_organisation is None
        ):
            return {**held, "reason": "unknown sender"}
        sender = contact_for(address, name, config.contact_organisation)
        base["sender"] = sender
        notes.append(f"a contact was made for {address}")
    if thread.claimed and thread.ticket is None:
        notes.append(f"it names {thread.claimed.key}, which the sender may not see")
    uploads = _uploads(parsed, notes)
    if thread.ticket is not None:
        comment = comment_add(
            actor=sender,
            ticket=thread.ticket,
            body=_comment_body(parsed, uploads, notes),
            attachments=uploads[:BATCH],
            channel="mail",
        )
        _add_files(sender, thread.ticket, uploads[BATCH:])
        return {**base, "outcome": Outcome.COMMENTED, "ticket": thread.ticket,
                "comment": comment, "reason": f"by {thread.via}"}  # fmt: skip
    if sender.is_supplier_staff:
        return {**held, "reason": "staff mail that answers no ticket"}
    ticket = ticket_create(
        actor=sender,
        desk=desk,
        title=_title(parsed.subject, desk.key_prefix),
        description=_text(parsed.text.strip(), notes),
        attachments=uploads[:BATCH],
        channel="mail",
    )
    _add_files(sender, ticket, uploads[BATCH:])
    return {**base, "outcome": Outcome.CREATED, "ticket": ticket}


def _apply(row: InboundMail, result: dict) -> None:
    row.outcome = result["outcome"]
    row.reason = result.get("reason", "")[:2000]
    row.ticket = result.get("ticket")
    row.comment = result.get("comment")
    row.sender = result.get("sender")
    row.no_reply = result.get("no_reply", False)
    row.proven_by = result.get("proven_by", "")
    row.notes = [str(n)[:300] for n in result.get("notes", [])][:50]


def run(
    row: InboundMail,
    parsed: Parsed | None,
    error: str = "",
    *,
    checks: bool = True,
    checked: Proof | None = None,
):
    """Process a stored row in a savepoint; a refusal or a bug holds it with the reason."""
    if parsed is None:
        _apply(row, {"outcome": Outcome.HELD, "reason": f"could not be read: {error}"})
        return
    try:
        with transaction.atomic():
            result = process(row, parsed, checks=checks, checked=checked)
            _apply(row, result)
            row.save()
    except DatabaseError:
        raise
    except CasedeskError as exc:
        _apply(row, {"outcome": Outcome.HELD, "reason": f"refused: {say_whole(exc, 'en')}"})
    except Exception as exc:  # a mail that breaks the code waits for a fix, with its error
        log.exception("mail %s could not be processed", row.pk)
        _apply(row, {"outcome": Outcome.HELD, "reason": f"could not be processed: {exc!r}"})
    row.save()


def _too_large(raw: bytes, desk, transport: str, now) -> Received:
    head = raw[:65536]
    parsed = parse(head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\n\n")
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMail.objects.create(
                    desk=desk,
                    message_id=parsed.message_id,
                    transport=transport,
                    received_at=now,
                    from_address="",
                    subject=parsed.subject,
                    outcome=Outcome.REJECTED,
                    reason=f"larger than {settings.CASEDESK_MAIL_MAX_BYTES // 1024**2} MB",
                    size=len(raw),
                    sha256=hashlib.sha256(raw).hexdigest(),
                    raw=head,
                )
        except IntegrityError:
            return Received("duplicate", duplicate=True)
        try:
            address, _ = sender_from(parsed.from_header)
        except AddressError:
            address = ""
        row.from_address = address
        row.no_reply = bool(verdict(parsed.headers, address, parsed.content_type).no_reply)
        row.save()
        _refuse(row, "too_large", address)
    return Received(row.outcome, row.reason, row.pk)


def _domain_proof(raw: bytes, parsed: Parsed | None, envelope: Envelope | None) -> Proof | None:
    """The sender check that asks DNS, made before the mail's transaction opens, so no
    lock waits for its lookups (held mail checked again does them inside)."""
    if parsed is None:
        return None
    try:
        address = sender_from(parsed.from_header)[0]
    except AddressError:
        return None
    return domain_proof(raw, address=address, results=parsed.authentication_results,
                        envelope=envelope or Envelope())  # fmt: skip


def _envelope_row(envelope: Envelope | None) -> dict:
    if envelope is None:
        return {}
    return {
        "mail_from": envelope.mail_from[:320],
        "recipients": [r[:320] for r in envelope.recipients[:20]],
        "client_ip": envelope.client_ip[:64],
        "helo": envelope.helo[:255],
    }


def mail_receive(raw: bytes, *, desk, transport: str, envelope: Envelope | None = None) -> Received:
    """Store and process one mail for `desk`; returns after the commit."""
    now = clock.now()
    if len(raw) > settings.CASEDESK_MAIL_MAX_BYTES:
        return _too_large(raw, desk, transport, now)
    error = ""
    try:
        parsed = parse(raw)
    except Exception as exc:  # kept and held below, with the error
        parsed, error = None, repr(exc)[:500]
        log.exception("mail for %s could not be read", desk.key_prefix)
    faults.point("after_parse")
    checked = _domain_proof(raw, parsed, envelope)
    message_id = parsed.message_id if parsed else f"hash:{hashlib.sha256(raw).hexdigest()}"
    from_address = ""
    if parsed is not None:
        try:
            from_address = sender_from(parsed.from_header)[0]
        except AddressError:
            from_address = (parsed.from_header or "")[:320]
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMail.objects.create(
                    desk=desk,
                    message_id=message_id[:500],
                    transport=transport,
                    received_at=now,
                    from_address=from_address,
                    from_name="",
                    subject=parsed.subject if parsed else "",
                    outcome=Outcome.HELD,
                    size=len(raw),
                    sha256=hashlib.sha256(raw).hexdigest(),
                    raw=raw,
                    envelope=_envelope_row(envelope),
                )
        except IntegrityError:
            log.info("mail %s for %s: a second delivery, ignored", message_id, desk.key_prefix)
            return Received("duplicate", duplicate=True)
        run(row, parsed, error, checked=checked)
        faults.point("before_commit")
    faults.point("after_commit")
    key = row.ticket.key if row.ticket is not None else ""
    log.info("mail %s for %s: %s %s", row.pk, desk.key_prefix, row.outcome, key)
    return Received(row.outcome, row.reason, row.pk, key)
