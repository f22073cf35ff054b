"""Links between tickets: related tickets, and duplicates closed as their workflow says."""

from __future__ import annotations

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem, StaleTicket
from casedesk.workflow import Given

from .changes import TicketChange, lock_ticket
from .inputs import MAX_TEXT, MAX_TITLE
from .models import Comment, Ticket, TicketLink
from .permissions import authorise


def _change_pair(
    actor, first: Ticket, second: Ticket, expected_version: int | None, *, verb: str, channel: str
) -> tuple[TicketChange, TicketChange]:
    """One change to each of two tickets, locked lower id first so two links never
    deadlock; call inside a transaction and finish both."""
    if first.pk == second.pk:
        raise InvalidInput({"other": Problem("ticket.link.self")})
    a, b = sorted((first.pk, second.pk))
    locked = {pk: lock_ticket(actor, pk, None) for pk in (a, b)}
    if expected_version is not None and locked[first.pk].version != expected_version:
        raise StaleTicket(locked[first.pk].key, expected_version, locked[first.pk].version)
    now = clock.now()
    changes = []
    for ticket in (locked[first.pk], locked[second.pk]):
        who = authorise(actor, verb, ticket.desk)
        changes.append(TicketChange(ticket, user=actor, who=who, channel=channel, now=now))
    return changes[0], changes[1]


def ticket_link(*, actor, ticket: Ticket, other: Ticket, channel: str = "web") -> TicketLink:
    """Record that two tickets relate to each other."""
    with transaction.atomic():
        one, two = _change_pair(actor, ticket, other, None, verb="ticket.link", channel=channel)
        ticket, other = one.ticket, two.ticket
        existing = TicketLink.objects.filter(
            kind="relates_to", source__in=(ticket, other), target__in=(ticket, other)
        ).first()
        if existing:
            return existing
        link = TicketLink.objects.create(
            source=ticket,
            target=other,
            desk_id=ticket.desk_id,
            kind="relates_to",
            created_by=actor,
            created_at=one.now,
        )
        for change, b in ((one, other), (two, ticket)):
            change.record(
                "linked", other=b.key, public=change.ticket.organisation_id == b.organisation_id
            )
            change.finish()
    return link


def ticket_mark_duplicate(
    *,
    actor,
    ticket: Ticket,
    original: Ticket,
    comment: str = "",
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    """Mark `ticket` as a duplicate of `original`: link both ways and close the duplicate as
    its workflow says (`duplicates:`), prefixing its title when the workflow asks for it."""
    with transaction.atomic():
        dup, orig = _change_pair(
            actor, ticket, original, expected_version, verb="ticket.duplicate", channel=channel
        )
        ticket, original, now = dup.ticket, orig.ticket, dup.now
        if TicketLink.objects.filter(source=original, target=ticket, kind="duplicate_of").exists():
            raise InvalidInput(
                {
                    "original": Problem(
                        "ticket.duplicate.already_of", original=original.key, ticket=ticket.key
                    )
                }
            )
        if TicketLink.objects.filter(source=ticket, kind="duplicate_of").exists():
            raise InvalidInput({"ticket": Problem("ticket.duplicate.already", ticket=ticket.key)})
        if (
            original.category in ("closed", "cancelled")
            and TicketLink.objects.filter(source=original, kind="duplicate_of").exists()
        ):
            raise InvalidInput(
                {"original": Problem("ticket.duplicate.original_closed", original=original.key)}
            )
        TicketLink.objects.create(
            source=ticket,
            target=original,
            desk_id=ticket.desk_id,
            kind="duplicate_of",
            created_by=actor,
            created_at=now,
        )
        same_org = ticket.organisation_id == original.organisation_id
        dup.record("duplicate_of", original=original.key if same_org else "", public=True)
        orig.record("duplicate_added", duplicate=ticket.key, public=same_org)
        orig.finish()
        rule = dup.wf.duplicates
        if (
            rule is not None
            and rule.title_prefix
            and not ticket.title.startswith(rule.title_prefix)
        ):
            new_title = (rule.title_prefix + ticket.title)[:MAX_TITLE]
            dup.record("edited", title=[ticket.title, new_title])
            ticket.title = new_title
        note = None
        if comment.strip():
            note = Comment.objects.create(
                ticket=ticket,
                desk_id=ticket.desk_id,
                author=actor,
                body=comment.strip()[:MAX_TEXT],
                internal=False,
                channel=channel,
                created_at=now,
            )
        if rule is not None and ticket.category not in ("closed", "cancelled"):
            dup.move(
                rule.transition,
                Given(comment=note.body if note else ""),
                comment_id=note.pk if note else None,
            )
        dup.finish()
    return ticket
