"""Service levels: a ticket's clocks, and a desk's calendar, plans and each organisation's
plan (read by the desk's staff, changed by its admins)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router
from pydantic import Field, StringConstraints

from casedesk.accounts.models import Organisation
from casedesk.common.errors import InvalidInput, Problem
from casedesk.sla import selectors, services
from casedesk.sla.models import SlaPlan
from casedesk.tickets.selectors import desk_for_user, ticket_get_for_actor

from ..schemas import Id, In, Schema
from .tickets import KeyPath, errors

router = Router(tags=["service levels"])
Time = Annotated[str, StringConstraints(pattern=r"^\d{1,2}:\d{2}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,60}$")]
Target = Literal["first_response", "next_response", "resolution"]
# a date in the path: strictly YYYY-MM-DD (pydantic alone would read "0" as 1970-01-01)
DayPath = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({"day": Problem("input.malformed", detail=value)}) from None


class ClockOut(Schema):
    target: str
    cycle: int
    state: str = Field(description="running | paused | met | stopped")
    started_at: datetime
    due_at: datetime | None = Field(description="when a running clock passes its target")
    limit_seconds: int = Field(description="business seconds allowed")
    used_seconds: int = Field(description="business seconds used until now")
    remaining_seconds: int = Field(description="negative once past the target")
    paused_since: datetime | None
    paused_in: str = Field(description="the status that paused it")
    met_at: datetime | None
    breached: bool
    breach_reason: str = Field(description="late | target_lowered, when breached")


@router.get(
    "/tickets/{key}/clocks",
    response={200: list[ClockOut], **errors()},
    summary="A ticket's SLA clocks",
)
def clocks_list(request: HttpRequest, key: KeyPath):
    ticket = ticket_get_for_actor(user=request.user, key=key)
    return [
        {
            "target": v.row.target,
            "cycle": v.row.cycle,
            "state": v.state,
            "started_at": v.row.started_at,
            "due_at": v.row.due_at,
            "limit_seconds": v.row.limit_seconds,
            "used_seconds": int(v.used.total_seconds()),
            "remaining_seconds": int(v.remaining.total_seconds()),
            "paused_since": v.row.paused_since,
            "paused_in": v.row.paused_by,
            "met_at": v.row.met_at,
            "breached": v.breached,
            "breach_reason": v.row.breach_reason if v.breached else "",
        }
        for v in selectors.clocks_for_ticket(ticket)
    ]


class DayOut(Schema):
    day: date
    kind: str
    name: str
    hours: list[list[int]]
    source_version: str = Field(description="the `holidays` package version it came from")


class CalendarOut(Schema):
    zone: str
    always: bool
    week: list[list[list[int]]] = Field(description="Monday first; minutes after midnight")
    holiday_country: str
    holiday_subdivision: str
    customers_see_times: bool
    days: list[DayOut]


class PlanOut(Schema):
    slug: str
    name: str
    desk_default: bool
    around_the_clock: bool
    warn_percent: int
    targets: dict[str, dict[str, int]] = Field(description="priority -> target -> minutes")


class LevelsOut(Schema):
    calendar: CalendarOut | None
    plans: list[PlanOut]
    organisations: dict[str, str] = Field(description="organisation id -> plan slug")


def _levels(request, desk) -> dict:
    levels = selectors.desk_levels_for(user=request.user, desk=desk)
    cal = levels.calendar
    slugs = {p.pk: p.slug for p in levels.plans}
    return {
        "calendar": None
        if cal is None
        else {
            "zone": cal.zone,
            "always": cal.always,
            "week": cal.week,
            "holiday_country": cal.holiday_country,
            "holiday_subdivision": cal.holiday_subdivision,
            "customers_see_times": cal.customers_see_times,
            "days": [
                {
                    "day": d.day,
                    "kind": d.kind,
                    "name": d.name,
                    "hours": d.hours,
                    "source_version": d.source_version,
                }
                for d in cal.days.all()
            ],
        },
        "plans": [
            {
                "slug": p.slug,
                "name": p.name,
                "desk_default": p.desk_default,
                "around_the_clock": p.around_the_clock,
                "warn_percent": p.warn_percent,
                "targets": _targets(p),
            }
            for p in levels.plans
        ],
        "organisations": {str(org): slugs[plan] for org, plan in levels.organisations.items()},
    }


def _targets(plan: SlaPlan) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for t in plan.targets.all():
        out.setdefault(t.priority, {})[t.target] = t.minutes
    return out


@router.get(
    "/desks/{desk_id}/service-levels",
    response={200: LevelsOut, **errors()},
    summary="A desk's calendar and SLA plans",
)
def levels_get(request: HttpRequest, desk_id: Id):
    return _levels(request, desk_for_user(user=request.user, desk_id=desk_id))


class Span(In):
    start: Time
    end: Time = Field(description="24:00 is the end of the day")


class CalendarIn(In):
    zone: Annotated[str, StringConstraints(max_length=64)]
    always: bool = False
    week: dict[Literal["0", "1", "2", "3", "4", "5", "6"], list[Span]] = Field(
        default_factory=dict, description="weekday (0 is Monday) -> opening intervals"
    )
    holiday_country: Annotated[str, StringConstraints(max_length=2)] = ""
    holiday_subdivision: Annotated[str, StringConstraints(max_length=10)] = ""
    customers_see_times: bool = Field(
        True, description="false: customers see only whether targets are met"
    )


@router.put(
    "/desks/{desk_id}/service-levels/calendar",
    response={200: LevelsOut, **errors()},
    summary="Set the desk's business calendar",
)
def calendar_put(request: HttpRequest, desk_id: Id, payload: CalendarIn):
    """Running clocks are re-planned from now on; met ones keep what they measured."""
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.calendar_set(
        actor=request.user,
        desk=desk,
        zone=payload.zone,
        always=payload.always,
        week={int(day): [(s.start, s.end) for s in spans] for day, spans in payload.week.items()},
        holiday_country=payload.holiday_country,
        holiday_subdivision=payload.holiday_subdivision,
        customers_see_times=payload.customers_see_times,
    )
    return _levels(request, desk)


@router.delete(
    "/desks/{desk_id}/service-levels/calendar",
    response={200: LevelsOut, **errors()},
    summary="Remove the desk's business calendar",
)
def calendar_delete(request: HttpRequest, desk_id: Id):
    """Refused while a plan uses the calendar: remove or move the plans first."""
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.calendar_delete(actor=request.user, desk=desk)
    return _levels(request, desk)


class DayIn(In):
    kind: Literal["closure", "short"]
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    hours: list[Span] = Field(default_factory=list, description="a short day's opening hours")


@router.put(
    "/desks/{desk_id}/service-levels/calendar/days/{day}",
    response={200: LevelsOut, **errors()},
    summary="Close the desk on a date, or shorten its hours",
)
def calendar_day_put(request: HttpRequest, desk_id: Id, day: DayPath, payload: DayIn):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.calendar_day_set(
        actor=request.user,
        desk=desk,
        day=_day(day),
        kind=payload.kind,
        name=payload.name,
        hours=[(s.start, s.end) for s in payload.hours],
    )
    return _levels(request, desk)


@router.delete(
    "/desks/{desk_id}/service-levels/calendar/days/{day}",
    response={200: LevelsOut, **errors()},
    summary="Remove a dated day (closure, short day or holiday)",
)
def calendar_day_delete(request: HttpRequest, desk_id: Id, day: DayPath):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.calendar_day_remove(actor=request.user, desk=desk, day=_day(day))
    return _levels(request, desk)


class HolidaysIn(In):
    first_year: int = Field(ge=1970, le=2100)
    last_year: int = Field(ge=1970, le=2100)


@router.post(
    "/desks/{desk_id}/service-levels/holidays",
    response={200: LevelsOut, **errors()},
    summary="Accept the public holidays the installed package knows",
)
def holidays_accept(request: HttpRequest, desk_id: Id, payload: HolidaysIn):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    if payload.last_year < payload.first_year:
        raise InvalidInput({"last_year": Problem("calendar.years_reversed")})
    services.calendar_holidays_accept(
        actor=request.user, desk=desk, years=range(payload.first_year, payload.last_year + 1)
    )
    return _levels(request, desk)


class PlanIn(In):
    name: Annotated[str, StringConstraints(max_length=200)]
    targets: dict[
        Annotated[str, StringConstraints(max_length=60)], dict[Target, Annotated[int, Field(ge=-1)]]
    ]
    desk_default: bool = False
    around_the_clock: bool = False
    warn_percent: int = 80


@router.put(
    "/desks/{desk_id}/service-levels/plans/{slug}",
    response={200: LevelsOut, **errors()},
    summary="Create or replace an SLA plan",
)
def plan_put(request: HttpRequest, desk_id: Id, slug: Slug, payload: PlanIn):
    """Targets are business minutes per priority; each must be above zero."""
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.plan_save(
        actor=request.user,
        desk=desk,
        slug=slug,
        name=payload.name,
        targets={p: {str(k): m for k, m in t.items()} for p, t in payload.targets.items()},
        desk_default=payload.desk_default,
        around_the_clock=payload.around_the_clock,
        warn_percent=payload.warn_percent,
    )
    return _levels(request, desk)


@router.delete(
    "/desks/{desk_id}/service-levels/plans/{slug}",
    response={200: LevelsOut, **errors()},
    summary="Remove an SLA plan",
)
def plan_delete(request: HttpRequest, desk_id: Id, slug: Slug):
    """Refused while an organisation is on the plan; running clocks on it move to the
    desk's default plan."""
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.plan_delete(actor=request.user, desk=desk, slug=slug)
    return _levels(request, desk)


class OrganisationPlanIn(In):
    plan: Slug | None = Field(description="a plan's slug; null: the desk's default")


@router.put(
    "/desks/{desk_id}/service-levels/organisations/{organisation_id}",
    response={200: LevelsOut, **errors()},
    summary="Put an organisation on a plan",
)
def organisation_plan_put(
    request: HttpRequest, desk_id: Id, organisation_id: Id, payload: OrganisationPlanIn
):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    services.authorise_levels(request.user, desk)
    org = Organisation.objects.filter(pk=organisation_id, desks=desk).first()
    if org is None:
        raise InvalidInput({"organisation": Problem("plan.organisation_other_desk")})
    plan = None
    if payload.plan is not None:
        plan = SlaPlan.objects.filter(desk=desk, slug=payload.plan).first()
        if plan is None:
            raise InvalidInput({"plan": Problem("plan.not_found", value=payload.plan)})
    services.organisation_plan_set(actor=request.user, desk=desk, organisation=org, plan=plan)
    return _levels(request, desk)
