"""A staff member's mail from a ticket to any address, people without an account too
(seed 004: the mail is kept on the ticket as evidence). The mail, its recipients and its
files are kept: the files as the ticket's attachments, the mail as an OutboundMail row,
and a `mail_sent` entry in the ticket's history that names them."""

from __future__ import annotations

import uuid

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem
from casedesk.tickets.attachments import Upload
from casedesk.tickets.inputs import MAX_TEXT, text_input
from casedesk.tickets.models import Attachment, Ticket
from casedesk.tickets.services import ticket_mail_record

from ..addresses import AddressError, strict_address
from ..models import DeskMail, OutboundMail
from . import compose
from .threading_headers import thread_headers

MAX_RECIPIENTS = 20


def _addresses(errors: dict[str, Problem], field: str, values, required: bool) -> list[str]:
    found: list[str] = []
    for value in values or []:
        try:
            found.append(strict_address(value))
        except AddressError:
            errors[field] = Problem("mail.address.invalid", value=str(value)[:80])
            return []
    if required and not found:
        errors[field] = Problem("mail.address.required")
    return found


def ticket_mail_send(
    *,
    actor,
    ticket: Ticket,
    to: list[str],
    subject: str,
    body: str,
    cc: list[str] | None = None,
    attachments: list[Upload] | None = None,
    attachment_ids: list[int] | None = None,
    internal: bool = False,
    expected_version: int | None = None,
    channel: str = "web",
) -> OutboundMail:
    errors: dict[str, Problem] = {}
    to = _addresses(errors, "to", to, required=True)
    cc = _addresses(errors, "cc", cc, required=False)
    if len(to) + len(cc) > MAX_RECIPIENTS:
        errors["to"] = Problem("mail.recipients.too_many", limit=MAX_RECIPIENTS)
    if any(c in (subject or "") for c in "\r\n"):
        errors["subject"] = Problem("mail.subject.one_line")
    subject = text_input(errors, "subject", subject, required=True, limit=250)
    body = text_input(errors, "body", body, required=True, limit=MAX_TEXT)
    own = set(DeskMail.objects.filter(address__in=to + cc).values_list("address", flat=True))
    if own:
        errors["to"] = Problem("mail.address.desk_own", address=sorted(own)[0])
    if errors:
        raise InvalidInput(errors)
    now = clock.now()

    def compose_mail(ticket: Ticket, files: list[Attachment]) -> tuple[OutboundMail, dict]:
        sender, reply_to = compose.sender_of(ticket.desk)
        content = compose.adhoc(ticket=ticket, body=body)
        full_subject = subject if ticket.key in subject else f"[{ticket.key}] {subject}"
        mail = OutboundMail.objects.create(
            desk_id=ticket.desk_id,
            ticket=ticket,
            kind="adhoc",
            key=f"adhoc:{uuid.uuid4().hex}",
            to=to,
            cc=cc,
            from_address=sender,
            reply_to=reply_to,
            subject=compose.one_line(full_subject, 300),
            body_text=content.text,
            body_html=content.html,
            automatic=False,
            created_by=actor,
            created_at=now,
            **thread_headers(ticket),
        )
        mail.attachments.set(files)
        entry = {
            "mail": mail.pk,
            "to": to,
            "cc": cc,
            "subject": mail.subject,
            "attachments": [{"id": a.pk, "name": a.name} for a in files],
        }
        return mail, entry

    return ticket_mail_record(
        actor=actor,
        ticket=ticket,
        compose=compose_mail,
        uploads=list(attachments or []),
        attachment_ids=attachment_ids,
        internal=internal,
        expected_version=expected_version,
        channel=channel,
    )
