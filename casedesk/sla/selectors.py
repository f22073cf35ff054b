"""Reading service levels: a ticket's clocks as a viewer may see them, a desk's setup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import router

from casedesk.common import clock
from casedesk.common.errors import NotFound
from casedesk.common.rows import Prepared
from casedesk.desks.models import Desk
from casedesk.tickets.models import Ticket
from casedesk.tickets.permissions import authorise
from casedesk.workflow.calendar import Calendar, between

from .models import BusinessCalendar, OrganisationPlan, SlaPlan, TicketClock, TicketSla
from .revisions import calendar_of


@dataclass(frozen=True)
class ClockView:
    row: TicketClock
    used: timedelta  # business time used until now
    remaining: timedelta  # negative once past the target
    state: str  # running | paused | met | stopped
    breached: bool
    calendar: Calendar

    @property
    def at_risk(self) -> bool:
        return self.row.warn_at is not None and self.row.warn_at <= clock.now()


def _state(row: TicketClock) -> str:
    if row.met_at is not None:
        return "met"
    if row.stopped_at is not None:
        return "stopped"
    return "running" if row.running else "paused"


def clocks_for_ticket(ticket: Ticket, *, now: datetime | None = None) -> list[ClockView]:
    return ticket_clocks(ticket, now=now).views


@dataclass(frozen=True)
class TicketClocks:
    views: list[ClockView]
    customers_see_times: bool


# read at every view of a ticket page: built by the ORM once (common.rows.Prepared)
_ticket_sla = Prepared(
    lambda t: TicketSla.objects.select_related("revision", "desk__sla_calendar").filter(
        ticket_id=t
    )[:1]
)
_ticket_clocks = Prepared(lambda t: TicketClock.objects.filter(ticket_id=t).order_by("seq"))


def ticket_clocks(ticket: Ticket, *, now: datetime | None = None) -> TicketClocks:
    """The ticket's clocks (a ticket the caller already found through a visibility-scoped
    selector), current cycle last; two statements (one without clocks)."""
    now = now or clock.now()
    sla = _ticket_sla.one(ticket.pk, using=router.db_for_read(TicketSla))
    if sla is None:
        return TicketClocks([], True)
    calendar = getattr(sla.desk, "sla_calendar", None)
    cal = calendar_of(sla.revision, sla.plan_id)
    views = []
    for row in _ticket_clocks(ticket.pk, using=router.db_for_read(TicketClock)):
        used = timedelta(seconds=row.used_seconds)
        if row.open and row.running:
            used += between(cal, row.measured_at, now)
        limit = timedelta(seconds=row.limit_seconds)
        breached = row.breached_at is not None or (
            row.open and row.due_at is not None and row.due_at <= now
        )
        if not row.open and row.breached_at is None:
            breached = used > limit
        views.append(ClockView(row, used, limit - used, _state(row), breached, cal))
    return TicketClocks(views, calendar.customers_see_times if calendar else True)


@dataclass(frozen=True)
class DeskLevels:
    calendar: BusinessCalendar | None
    plans: list[SlaPlan]
    organisations: dict[int, int]  # organisation id -> plan id


def desk_levels_for(*, user, desk: Desk) -> DeskLevels:
    """A desk's calendar and plans, for its staff (customers see none of it as such)."""
    if not getattr(user, "is_supplier_staff", False) and not getattr(user, "is_superuser", False):
        raise NotFound("desk.not_found")
    authorise(user, "ticket.edit", desk)  # any staff role on the desk
    return DeskLevels(
        calendar=BusinessCalendar.objects.filter(desk=desk).prefetch_related("days").first(),
        plans=list(SlaPlan.objects.filter(desk=desk).prefetch_related("targets")),
        organisations=dict(
            OrganisationPlan.objects.filter(desk=desk).values_list("organisation_id", "plan_id")
        ),
    )
