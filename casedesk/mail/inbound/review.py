"""Staff decide about held mail: release it (as the sender's comment or ticket, as an
internal note on a ticket, or as a ticket for a customer they name), or discard it.
`inbound_reprocess` runs held mail through ingestion again, e.g. after a fix."""

from __future__ import annotations

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem
from casedesk.tickets.permissions import authorise
from casedesk.tickets.selectors import ticket_get_for_actor
from casedesk.tickets.services import comment_add, ticket_create

from ..access import inbound_for_staff
from ..models import InboundMail
from .parse import parse
from .receive import _uploads, run

Outcome = InboundMail.Outcome


def _held(actor, mail_id) -> InboundMail:
    mail = inbound_for_staff(user=actor, mail_id=mail_id)
    authorise(actor, "mail.review", mail.desk)
    if mail.outcome != Outcome.HELD:
        raise InvalidInput({"mail": Problem("mail.not_held")})
    return InboundMail.objects.select_for_update().get(pk=mail.pk)


def inbound_release(*, actor, mail_id, ticket_key: str = "", reporter=None) -> InboundMail:
    """Let a held mail in. With a ticket: as an internal note there (the sender's words,
    marked as a mail); with a reporter: as a new ticket for that customer; with neither:
    processed again as its sender, past the checks that held it."""
    with transaction.atomic():
        mail = _held(actor, mail_id)
        parsed = parse(bytes(mail.raw))
        notes: list[str] = []
        uploads = _uploads(parsed, notes)
        if ticket_key:
            ticket = ticket_get_for_actor(user=actor, key=ticket_key)
            header = f"Mail from {mail.from_address} ({mail.received_at:%Y-%m-%d %H:%M} UTC)"
            comment = comment_add(
                actor=actor,
                ticket=ticket,
                body=f"{header}\n\n{parsed.text.strip() or '(empty mail)'}"[:100_000],
                internal=True,
                attachments=uploads[:20],
                channel="mail",
            )
            mail.outcome, mail.ticket, mail.comment = Outcome.COMMENTED, ticket, comment
        elif reporter is not None:
            ticket = ticket_create(
                actor=actor,
                desk=mail.desk,
                title=(parsed.subject or "(no subject)")[:300],
                description=parsed.text.strip()[:100_000],
                reporter=reporter,
                attachments=uploads[:20],
                channel="mail",
            )
            mail.outcome, mail.ticket = Outcome.CREATED, ticket
        else:
            run(mail, parsed, checks=False)
            if mail.outcome == Outcome.HELD:
                raise InvalidInput({"mail": Problem("mail.still_held", reason=mail.reason)})
        mail.notes = [*mail.notes, *notes][:50]
        mail.reviewed_by, mail.reviewed_at = actor, clock.now()
        mail.save()
    return mail


def inbound_discard(*, actor, mail_id) -> InboundMail:
    with transaction.atomic():
        mail = _held(actor, mail_id)
        mail.outcome = Outcome.DISCARDED
        mail.reviewed_by, mail.reviewed_at = actor, clock.now()
        mail.save(update_fields=["outcome", "reviewed_by", "reviewed_at"])
    return mail


def inbound_reprocess(mail_ids: list[int]) -> list[InboundMail]:
    """Held mail through ingestion again, with every check (the system acts)."""
    done = []
    for mail_id in mail_ids:
        with transaction.atomic():
            mail = (
                InboundMail.objects.select_for_update()
                .filter(pk=mail_id, outcome=Outcome.HELD)
                .first()
            )
            if mail is None:
                continue
            try:
                parsed, error = parse(bytes(mail.raw)), ""
            except Exception as exc:
                parsed, error = None, repr(exc)[:500]
            run(mail, parsed, error)
            done.append(mail)
    return done
