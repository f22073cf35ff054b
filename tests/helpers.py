"""Helpers shared by tests of tickets."""

from __future__ import annotations

from casedesk.tickets.models import Attachment, Comment, Participant, Ticket, TicketEvent


def fresh(ticket: Ticket) -> Ticket:
    """The ticket as the database has it now."""
    return Ticket.objects.select_related("team").get(pk=ticket.pk)


def state(ticket: Ticket) -> tuple:
    """Everything a refused change must leave exactly as it was: the ticket's own columns
    and how many history entries, comments, files and followers it has."""
    t = fresh(ticket)
    columns = tuple(
        getattr(t, f.attname) for f in Ticket._meta.concrete_fields if f.name != "updated_at"
    )
    return (
        *columns,
        TicketEvent.objects.filter(ticket=t).count(),
        Comment.objects.filter(ticket=t).count(),
        Attachment.objects.filter(ticket=t).count(),
        Participant.objects.filter(ticket=t).count(),
    )


def version(ticket: Ticket) -> int:
    """The ticket's version now, as a form drawn from it would carry."""
    return Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk)
