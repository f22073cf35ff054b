"""Links between tickets: related tickets, and duplicates closed as their workflow says."""

from __future__ import annotations

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, StaleTicket
from casedesk.workflow import Given

from .bridge import workflow_of
from .changes import finish, lock_ticket, move, record
from .inputs import MAX_TEXT, MAX_TITLE
from .models import Comment, Ticket, TicketLink
from .permissions import authorise


def _lock_pair(actor, first: Ticket, second: Ticket, expected_version: int | None):
    """Lock two tickets, always the lower id first, so two links never deadlock."""
    if first.pk == second.pk:
        raise InvalidInput({"other": "a ticket cannot be linked to itself"})
    a, b = sorted((first.pk, second.pk))
    locked = {pk: lock_ticket(actor, pk, None) for pk in (a, b)}
    if expected_version is not None and locked[first.pk].version != expected_version:
        raise StaleTicket(locked[first.pk].key, expected_version, locked[first.pk].version)
    return locked[first.pk], locked[second.pk]


def ticket_link(*, actor, ticket: Ticket, other: Ticket, channel: str = "web") -> TicketLink:
    """Record that two tickets relate to each other."""
    now = clock.now()
    with transaction.atomic():
        ticket, other = _lock_pair(actor, ticket, other, None)
        who = authorise(actor, "ticket.link", ticket.desk)
        authorise(actor, "ticket.link", other.desk)
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
            created_at=now,
        )
        for a, b in ((ticket, other), (other, ticket)):
            record(
                a,
                actor=who,
                kind="linked",
                channel=channel,
                now=now,
                other=b.key,
                public=a.organisation_id == b.organisation_id,
            )
            finish(a, now)
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
    now = clock.now()
    with transaction.atomic():
        ticket, original = _lock_pair(actor, ticket, original, expected_version)
        who = authorise(actor, "ticket.duplicate", ticket.desk)
        authorise(actor, "ticket.duplicate", original.desk)
        if TicketLink.objects.filter(source=original, target=ticket, kind="duplicate_of").exists():
            raise InvalidInput(
                {"original": f"{original.key} is already a duplicate of {ticket.key}"}
            )
        if TicketLink.objects.filter(source=ticket, kind="duplicate_of").exists():
            raise InvalidInput({"ticket": f"{ticket.key} is already marked as a duplicate"})
        if (
            original.category in ("closed", "cancelled")
            and TicketLink.objects.filter(source=original, kind="duplicate_of").exists()
        ):
            raise InvalidInput({"original": f"{original.key} is itself a closed duplicate"})
        wf = workflow_of(ticket)
        TicketLink.objects.create(
            source=ticket,
            target=original,
            desk_id=ticket.desk_id,
            kind="duplicate_of",
            created_by=actor,
            created_at=now,
        )
        same_org = ticket.organisation_id == original.organisation_id
        record(
            ticket,
            actor=who,
            kind="duplicate_of",
            channel=channel,
            now=now,
            original=original.key if same_org else "",
            public=True,
        )
        record(
            original,
            actor=who,
            kind="duplicate_added",
            channel=channel,
            now=now,
            duplicate=ticket.key,
            public=same_org,
        )
        finish(original, now)
        rule = wf.duplicates
        if (
            rule is not None
            and rule.title_prefix
            and not ticket.title.startswith(rule.title_prefix)
        ):
            new_title = (rule.title_prefix + ticket.title)[:MAX_TITLE]
            record(
                ticket,
                actor=who,
                kind="edited",
                channel=channel,
                now=now,
                title=[ticket.title, new_title],
            )
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
            move(
                ticket,
                actor=who,
                transition=rule.transition,
                given=Given(comment=note.body if note else ""),
                channel=channel,
                now=now,
                comment_id=note.pk if note else None,
            )
        finish(ticket, now)
    return ticket
