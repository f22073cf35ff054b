"""Which ticket a received mail answers: by our Message-IDs in In-Reply-To and
References (our sent mail, the ticket's signed root id, or a mail received earlier for the
same ticket), then by `[KEY-123]` in the subject. Only a ticket of the receiving desk that
the sender may see counts; anything else is not an answer to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casedesk.tickets.models import Ticket

from ..models import InboundMail, OutboundMail
from ..threading import ids_in, ticket_of_root


@dataclass(frozen=True)
class Thread:
    ticket: Ticket | None  # the ticket the sender may see and answers
    claimed: Ticket | None  # a ticket the mail points at (seen or not)
    via: str = ""
    adhoc: bool = False  # the sender was mailed from this ticket by staff


def _claimed(refs: list[str], subject: str, desk) -> tuple[int | None, str, OutboundMail | None]:
    if refs:
        sent = (
            OutboundMail.objects.filter(message_id__in=refs, desk=desk, ticket__isnull=False)
            .order_by("-id")
            .first()
        )
        if sent is not None:
            return sent.ticket_id, "message-id", sent
        for ref in refs:
            ticket_id = ticket_of_root(ref)
            if ticket_id:
                return ticket_id, "message-id", None
        earlier = (
            InboundMail.objects.filter(message_id__in=refs, desk=desk, ticket__isnull=False)
            .values_list("ticket_id", flat=True)
            .first()
        )
        if earlier:
            return earlier, "message-id", None
    found = re.search(rf"\[({re.escape(desk.key_prefix)}-\d{{1,12}})\]", subject or "")
    if found:
        key = found.group(1)
        ticket_id = Ticket.objects.filter(key=key, desk=desk).values_list("pk", flat=True).first()
        if ticket_id:
            return ticket_id, "subject", None
    return None, "", None


def thread_of(
    *, in_reply_to: str, references: str, subject: str, desk, sender, address: str
) -> Thread:
    refs = ids_in(in_reply_to) + [r for r in ids_in(references) if r not in in_reply_to]
    ticket_id, via, sent = _claimed(refs, subject, desk)
    if ticket_id is None:
        return Thread(None, None)
    claimed = Ticket.objects.filter(pk=ticket_id, desk=desk).first()
    if claimed is None:
        return Thread(None, None)
    adhoc = bool(sent and sent.kind == "adhoc" and address in [*sent.to, *sent.cc])
    if sender is None or not Ticket.objects.visible_to(sender).filter(pk=ticket_id).exists():
        return Thread(None, claimed, via, adhoc)
    return Thread(claimed, claimed, via, adhoc)
