"""A mail sent from a ticket, kept on it (seed 004: the mail is the evidence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from casedesk.common.errors import InvalidInput, Problem

from .attachments import Upload, store_attachments
from .changes import ticket_change
from .models import Attachment, Ticket

MAX_ID = 2**63 - 1
M = TypeVar("M")


def ticket_mail_record(
    *,
    actor,
    ticket: Ticket,
    compose: Callable[[Ticket, list[Attachment]], tuple[M, dict]],
    uploads: list[Upload] | None = None,
    attachment_ids: list | None = None,
    internal: bool = False,
    expected_version: int | None = None,
    channel: str = "web",
) -> M:
    """Staff send a mail from a ticket: its new files become the ticket's attachments, the
    ticket's existing files named by `attachment_ids` go along, and `compose(ticket, files)`
    builds the mail (the mail app's business) and returns it with what the `mail_sent`
    history entry says about it. One transaction: no mail without its record."""
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb="mail.send",
        channel=channel,
    ) as change:
        ids = list(attachment_ids or [])
        wanted = {int(i) for i in ids if str(i).isdigit() and int(i) <= MAX_ID}
        existing = list(Attachment.objects.filter(pk__in=wanted, ticket=change.ticket))
        if len(existing) != len(set(ids)):
            raise InvalidInput({"attachment_ids": Problem("ticket.mail_attachment.foreign")})
        stored = store_attachments(
            change, list(uploads or []), comment=None, internal=internal, channel="mail"
        )
        mail, entry = compose(change.ticket, existing + stored)
        change.record("mail_sent", public=not internal, **entry)
    return mail
