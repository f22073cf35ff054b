"""Reads of mail records for staff, scoped to the desks they work on: a mail of another
desk is NotFound, exactly like one that does not exist."""

from __future__ import annotations

from django.db.models import QuerySet

from casedesk.common.errors import NotFound
from casedesk.desks.models import StaffMembership
from casedesk.tickets.models import OutboxItem

from .models import InboundMail, OutboundMail

CONSUMER = "mail"  # the mail app's name in the ticket outbox


def desks_reviewed_by(user) -> list[int] | None:
    """Desk ids whose mail this person may review; None: all (superusers)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return []
    if user.is_superuser:
        return None
    if not user.is_supplier_staff:
        return []
    return list(StaffMembership.objects.filter(user=user).values_list("desk_id", flat=True))


def _scoped(rows: QuerySet, user, desks: list[int] | bool | None = False) -> QuerySet:
    desks = desks_reviewed_by(user) if desks is False else desks
    return rows if desks is None else rows.filter(desk_id__in=desks)


def outbound_for_staff(*, user, mail_id) -> OutboundMail:
    try:
        mail_id = int(mail_id)
    except (TypeError, ValueError):
        raise NotFound("mail.not_found") from None
    found = _scoped(OutboundMail.objects.filter(pk=mail_id), user).first()
    if found is None:
        raise NotFound("mail.not_found")
    return found


def inbound_for_staff(*, user, mail_id) -> InboundMail:
    try:
        mail_id = int(mail_id)
    except (TypeError, ValueError):
        raise NotFound("mail.not_found") from None
    found = _scoped(InboundMail.objects.filter(pk=mail_id), user).defer("raw").first()
    if found is None:
        raise NotFound("mail.not_found")
    return found


def mail_problems_for(
    *, user, limit: int = 100
) -> tuple[list[InboundMail], list[OutboundMail], list[OutboxItem]]:
    """Held received mail, mail that could not be sent, and changes whose notifications
    could not be made, newest first (three queries after the desks)."""
    desks = desks_reviewed_by(user)
    held = _scoped(InboundMail.objects.filter(outcome=InboundMail.Outcome.HELD), user, desks)
    failed = _scoped(OutboundMail.objects.filter(status=OutboundMail.Status.FAILED), user, desks)
    return (
        list(held.defer("raw").select_related("desk", "ticket")[:limit]),
        list(failed.select_related("desk", "ticket")[:limit]),
        list(
            _notifications(user, desks)
            .select_related("event__ticket__desk")
            .order_by("-held_at", "-id")[:limit]
        ),
    )


def _notifications(user, desks: list[int] | bool | None = False) -> QuerySet:
    """History entries the mail app could not turn into notifications, tried until they
    were held (a desk setting that breaks them, say): the change happened, its mail did
    not."""
    rows = OutboxItem.objects.filter(consumer=CONSUMER, held_at__isnull=False)
    desks = desks_reviewed_by(user) if desks is False else desks
    if desks is None:
        return rows
    if isinstance(desks, bool):  # only False means "work it out", and that was done
        return rows.none()
    return rows.filter(event__ticket__desk_id__in=desks)


def notification_for_staff(*, user, item_id) -> OutboxItem:
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise NotFound("mail.not_found") from None
    found = _notifications(user).select_related("event__ticket__desk").filter(pk=item_id).first()
    if found is None:
        raise NotFound("mail.not_found")
    return found
