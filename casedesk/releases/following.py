"""Fixes follow their tickets (an observer of every finished ticket change).

- `open` mirrors whether the ticket is still open, so deliveries read only open fixes.
- The workflow's fix version field names the release of the ticket's fix: setting it to a
  declared release records that fix (replacing an earlier one on the same line), and
  emptying it (the customer rejected the fix, say) withdraws the ticket's fixes.
- A ticket that arrives where a release event applies, when its organisation's
  environment already runs a release carrying its fix (or the update is already out),
  gets a delivery of its own from the worker, so events in any order end in one state.

Desks whose workflow has no release events cost nothing here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from casedesk.tickets.models import Ticket

from .delivery import DEPLOYED, PUBLISHED
from .models import Environment, Release, TicketFix

if TYPE_CHECKING:
    from casedesk.tickets.services import TicketChange

FIX_FIELD = "fix_version"


def fixes_follow(change: TicketChange) -> None:
    wf = change.wf
    if not any(t.on in (DEPLOYED, PUBLISHED) for t in wf.triggers):
        return
    ticket: Ticket = change.ticket
    now = change.now
    is_open = ticket.category not in ("closed", "cancelled")
    # unordered: a ticket has a fix or two, and this runs on every change of such a desk
    fixes = list(TicketFix.objects.filter(ticket=ticket).select_related("release").order_by())
    stale = [f.pk for f in fixes if f.open != is_open]
    if stale:
        TicketFix.objects.filter(pk__in=stale).update(open=is_open)
        for f in fixes:
            f.open = is_open
    named = str((ticket.fields or {}).get(FIX_FIELD) or "").strip()
    active = [f for f in fixes if f.withdrawn_at is None]
    if not named:
        if active:
            TicketFix.objects.filter(pk__in=[f.pk for f in active]).update(withdrawn_at=now)
            active = []
    elif not any(f.release.version == named for f in active):
        release = Release.objects.filter(desk_id=ticket.desk_id, version=named).first()
        if release is not None:
            TicketFix.objects.update_or_create(
                ticket=ticket,
                release=release,
                defaults={"withdrawn_at": None, "open": is_open},
                create_defaults={
                    "desk_id": ticket.desk_id,
                    "organisation_id": ticket.organisation_id,
                    "line_id": release.line_id,
                    "position": release.position,
                    "open": is_open,
                    "created_at": now,
                    "created_by": change.user,
                },
            )
            replaced = [f.pk for f in active if f.line_id == release.line_id]
            TicketFix.objects.filter(pk__in=replaced).update(withdrawn_at=now)
            active = [f for f in active if f.pk not in replaced]
            active.append(TicketFix(line_id=release.line_id, position=release.position))
    moved = any(e.kind in ("transition", "created") for e in change.events)
    if active and is_open and moved and _due_now(wf, ticket, active):
        from .tasks import deliver_ticket

        deliver_ticket.enqueue(ticket_id=ticket.pk)


def _due_now(wf, ticket: Ticket, active: list[TicketFix]) -> bool:
    """Has what this ticket now waits for already happened (one indexed read)?"""
    tiers = {
        t.environment
        for t in wf.triggers
        if t.on == DEPLOYED and any(r.matches(ticket.status, ticket.sub_status) for r in t.places)
    }
    published = any(
        t.on == PUBLISHED and any(r.matches(ticket.status, ticket.sub_status) for r in t.places)
        for t in wf.triggers
    )
    if not (tiers or published):
        return False
    carried = Q()
    for fix in active:
        carried |= Q(line_id=fix.line_id, position__gte=fix.position)
    if tiers:
        envs = Environment.objects.filter(
            organisation_id=ticket.organisation_id, desk_id=ticket.desk_id
        )
        if None not in tiers:
            envs = envs.filter(tier__in=tiers)
        ids = Release.objects.filter(carried).values("pk")
        if envs.filter(current__release__in=ids).exists():
            return True
    return published and Release.objects.filter(carried, published_on__isnull=False).exists()
