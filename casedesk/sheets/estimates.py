"""The hour estimate beside a ticket: staff set it, a customer approver grants it.

One place for the writes; the rules are `workflow.estimate`. Every write locks the ticket
(`ticket_beside_change`) and leaves a history entry: `estimate_set` (hours before and
after, and whether it withdrew a grant or now waits for one), `estimate_granted` (which
hours, by whom; the entry's time is when). The workflow's own grant (an `estimate: grant`
effect) and the thresholds of logged time are followed by `estimate_follow`, an observer
of every finished change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import router
from django.db.models import Sum

from casedesk.accounts.models import User
from casedesk.common.errors import Forbidden, InvalidInput, Problem
from casedesk.common.rows import Prepared
from casedesk.tickets import selectors as ticket_selectors
from casedesk.tickets import services as ticket_services
from casedesk.tickets.models import Ticket
from casedesk.workflow.estimate import (
    TELL_AT,
    WARN_AT,
    awaiting_grant,
    crossing,
    parse_hours,
    percent_used,
    withdraws,
)

from .models import Estimate, TimeEntry
from .services import counted

GRANT = "estimate.grant"  # the permission verb (tickets.permissions) of granting


def _hours(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def logged_minutes(ticket: Ticket) -> int:
    """Worked minutes that count, over every cycle of the ticket."""
    rows = counted(TimeEntry.objects.filter(ticket=ticket))
    return rows.aggregate(n=Sum("minutes"))["n"] or 0


def estimate_set(*, actor, ticket: Ticket, hours, channel: str = "web") -> Estimate:
    """Staff set the estimate. Raising it above the granted hours withdraws the grant and
    asks the approvers again; lowering it keeps the grant."""
    value = parse_hours(hours)
    if value is None:
        raise InvalidInput({"hours": Problem("estimate.hours", most="99999.99")})

    def write(locked: Ticket, now: datetime):
        row = Estimate.objects.select_for_update().filter(ticket=locked).first()
        before = row.hours if row is not None else None
        if before == value:
            raise InvalidInput({"hours": "estimate.unchanged"})
        if row is None:
            row = Estimate(ticket=locked, hours=value, set_at=now, set_by=actor)
        withdrawn = withdraws(before, value, row.granted_hours)
        if before is not None and value > before:
            row.warned_at = row.told_at = None  # a raised estimate is measured afresh
        row.hours, row.set_at, row.set_by = value, now, actor
        row.save()
        return row, {
            "hours": [_hours(before), _hours(value)],
            "granted": _hours(row.granted_hours),
            "withdrawn": withdrawn,
            "awaiting": row.awaiting,
        }

    return ticket_services.ticket_beside_change(
        actor=actor,
        ticket=ticket,
        verb="estimate.set",
        kind="estimate_set",
        write=write,
        channel=channel,
    )


def _grant(row: Estimate, user, now: datetime) -> dict:
    before = row.granted_hours
    row.granted_hours, row.granted_at, row.granted_by = row.hours, now, user
    row.save(update_fields=["granted_hours", "granted_at", "granted_by"])
    return {"hours": _hours(row.hours), "before": _hours(before)}


def estimate_grant(*, actor, ticket: Ticket, hours=None, channel: str = "web") -> Estimate:
    """An approver of the ticket's organisation grants the estimate as it stands. `hours`
    is what they were shown: if the estimate changed since, nothing is granted."""
    seen = None if hours in (None, "") else parse_hours(hours)
    if hours not in (None, "") and seen is None:
        raise InvalidInput({"hours": Problem("estimate.hours", most="99999.99")})

    def write(locked: Ticket, now: datetime):
        if actor is None or not actor.is_customer:
            raise Forbidden("permission.denied", verb=GRANT)
        row = Estimate.objects.select_for_update().filter(ticket=locked).first()
        if row is None or not row.awaiting:
            raise InvalidInput({"hours": "estimate.nothing_to_grant"})
        if seen is not None and seen != row.hours:
            raise InvalidInput({"hours": Problem("estimate.changed", hours=_hours(row.hours))})
        return row, _grant(row, actor, now)

    return ticket_services.ticket_beside_change(
        actor=actor,
        ticket=ticket,
        verb=GRANT,
        kind="estimate_granted",
        write=write,
        channel=channel,
    )


# -- following every change ------------------------------------------------------------


def estimate_follow(change) -> None:
    """The workflow's grant (`estimate: grant`) grants the estimate waiting for it; logged
    or corrected time that reaches a threshold is noted once in the history."""
    grants = False
    logged = False
    for event in list(change.events):
        if event.kind in ("time_logged", "time_corrected"):
            logged = True
        if event.kind != "transition":
            continue
        t = change.wf.transitions.get(event.data.get("transition"))
        if t is not None and any(e.kind == "estimate" for e in t.effects):
            grants = True
    if not (grants or logged):
        return
    row = Estimate.objects.select_for_update().filter(ticket=change.ticket).first()
    if row is None:
        return
    if grants and row.awaiting:
        change.record("estimate_granted", **_grant(row, change.user, change.now))
    if logged:
        minutes = logged_minutes(change.ticket)
        now = crossing(
            minutes, row.hours, warned=row.warned_at is not None, told=row.told_at is not None
        )
        data = {
            "hours": _hours(row.hours),
            "minutes": minutes,
            "percent": percent_used(minutes, row.hours),
        }
        if now.warn:
            row.warned_at = change.now
            change.record("estimate_warning", public=False, **data)
        if now.tell:
            row.told_at = change.now
            change.record("estimate_reached", **data)
        if now.warn or now.tell:
            row.save(update_fields=["warned_at", "told_at"])


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateView:
    hours: Decimal
    granted_hours: Decimal | None
    granted_at: datetime | None
    granted_by: object
    awaiting: bool
    minutes: int
    percent: int
    can_grant: bool  # the viewer may grant it now

    @property
    def warning(self) -> bool:
        return self.percent >= WARN_AT

    @property
    def reached(self) -> bool:
        return self.percent >= TELL_AT


# read at every view of a ticket page: built by the ORM once (common.rows.Prepared)
_estimate = Prepared(
    lambda t: Estimate.objects.filter(ticket_id=t).select_related("granted_by").order_by("pk")[:1]
)


def estimate_for(*, user, ticket: Ticket, minutes: int | None = None) -> EstimateView | None:
    """The ticket's estimate as `user` sees it (only through a ticket they may see), or
    None when there is none. `minutes`: the logged time if the caller counted it."""
    ticket_selectors.ticket_ensure_visible(user=user, ticket=ticket)
    row = _estimate.one(ticket.pk, using=router.db_for_read(Estimate))
    if row is None:
        return None
    minutes = logged_minutes(ticket) if minutes is None else minutes
    return EstimateView(
        hours=row.hours,
        granted_hours=row.granted_hours,
        granted_at=row.granted_at,
        granted_by=row.granted_by,
        awaiting=awaiting_grant(row.hours, row.granted_hours),
        minutes=minutes,
        percent=percent_used(minutes, row.hours),
        can_grant=may_grant(user, ticket) and row.awaiting,
    )


def may_grant(user, ticket: Ticket) -> bool:
    return bool(
        user is not None
        and user.is_customer
        and user.organisation_id == ticket.organisation_id
        and user.customer_role in ("approver", "org_admin")
    )


def approvers_of(ticket: Ticket):
    """The people who may grant for the ticket's organisation."""
    return User.objects.filter(
        organisation_id=ticket.organisation_id,
        kind="customer",
        customer_role__in=("approver", "org_admin"),
        is_active=True,
    ).select_related("organisation")
