"""Changing a desk's service levels: its calendar, its plans and who is on which plan.

Every service here checks all of its input before writing anything (a refusal changes
nothing), writes in one transaction, and ends with `revision_write`: the desk's whole
configuration is stored as a new revision and the running clocks of its tickets are
re-planned from that moment on (`clocks.desk_replan`); met and stopped clocks keep what
they measured.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from casedesk.accounts.models import Organisation
from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem
from casedesk.desks.models import Desk
from casedesk.tickets.permissions import authorise
from casedesk.workflow.calendar import (
    Calendar,
    CalendarError,
    calendar_to_data,
    time_minutes,
    weekly,
)

from .models import TARGETS, BusinessCalendar, CalendarDay, OrganisationPlan, SlaPlan, SlaTarget
from .revisions import revision_write

TARGET_KEYS = {key for key, _ in TARGETS}
MAX_TARGET_MINUTES = 366 * 24 * 60

MAX_SLUG = 60
MAX_YEARS = 30


def authorise_levels(actor, desk: Desk) -> None:
    """Only a desk's admins change its service levels; raises otherwise."""
    authorise(actor, "desk.sla", desk)


def _refuse(field: str, exc: CalendarError) -> InvalidInput:
    """The engine's refusal of a calendar, under the field it came from (its codes are
    registered like every other)."""
    return InvalidInput({field: Problem(exc.code, **exc.params)})


def calendar_of_rows(cal: BusinessCalendar, days: list[CalendarDay] | None = None) -> Calendar:
    """The engine's calendar for a stored one (with its dated days)."""
    days = list(cal.days.all()) if days is None else days
    return Calendar(
        zone=cal.zone,
        week=tuple(tuple((int(a), int(b)) for a, b in d) for d in cal.week) or ((),) * 7,  # type: ignore[arg-type]
        exceptions={d.day: tuple((int(a), int(b)) for a, b in d.hours) for d in days},
        always=cal.always,
    )


def _parse_week(week: dict[int, list[tuple[str, str]]], zone: str) -> list[list[list[int]]]:
    """Readable hours ({0: [("08:00", "17:00")]}, Monday 0) checked by the engine.
    Reversed intervals are refused here (an interval across midnight is written as
    two days' intervals, or as an end at 24:00)."""
    for weekday, spans in week.items():
        if not 0 <= int(weekday) <= 6:
            raise InvalidInput({"week": Problem("calendar.weekday_unknown", value=weekday)})
        for start, end in spans:
            try:
                a, b = time_minutes(start), time_minutes(end)
            except CalendarError as exc:
                raise _refuse("week", exc) from None
            if b <= a and b != 0:
                raise InvalidInput(
                    {
                        "week": Problem(
                            "calendar.interval_reversed", day=weekday, start=start, end=end
                        )
                    }
                )
    try:
        cal = weekly(zone, {int(k): list(v) for k, v in week.items()})
    except CalendarError as exc:
        raise _refuse("week", exc) from None
    data = calendar_to_data(cal)["week"]
    assert isinstance(data, list)
    return data


@transaction.atomic
def calendar_set(
    *,
    actor,
    desk: Desk,
    zone: str,
    week: dict[int, list[tuple[str, str]]] | None = None,
    always: bool = False,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    customers_see_times: bool = True,
) -> BusinessCalendar:
    """Create or replace the desk's calendar (its dated days stay). With
    `customers_see_times=False` customers see only whether targets are met."""
    authorise(actor, "desk.sla", desk)
    try:
        Calendar(zone, always=True)
    except CalendarError as exc:
        raise _refuse("zone", exc) from None
    hours = [[] for _ in range(7)] if always else _parse_week(week or {}, zone)
    if holiday_country:
        import holidays

        if holiday_country.upper() not in holidays.list_supported_countries():
            raise InvalidInput(
                {
                    "holiday_country": Problem(
                        "calendar.holiday_country_unknown", value=holiday_country
                    )
                }
            )
        subdivisions = holidays.list_supported_countries()[holiday_country.upper()]
        if holiday_subdivision and holiday_subdivision not in subdivisions:
            raise InvalidInput(
                {
                    "holiday_subdivision": Problem(
                        "calendar.holiday_subdivision_unknown",
                        value=holiday_subdivision,
                        country=holiday_country.upper(),
                    )
                }
            )
    now = clock.now()
    cal, _ = BusinessCalendar.objects.update_or_create(
        desk=desk,
        defaults={
            "zone": zone,
            "always": always,
            "week": hours,
            "holiday_country": holiday_country.upper(),
            "holiday_subdivision": holiday_subdivision,
            "customers_see_times": customers_see_times,
            "updated_at": now,
        },
    )
    try:
        calendar_of_rows(cal)
    except CalendarError as exc:
        raise _refuse("week", exc) from None
    revision_write(desk, note="calendar")
    return cal


@transaction.atomic
def calendar_delete(*, actor, desk: Desk) -> bool:
    """Remove the desk's calendar and its dated days; refused while a plan uses it (its
    tickets' clocks keep the revision they were planned with)."""
    authorise(actor, "desk.sla", desk)
    cal = BusinessCalendar.objects.filter(desk=desk).first()
    if cal is None:
        return False
    plans = SlaPlan.objects.filter(calendar=cal).count()
    if plans:
        raise InvalidInput({"calendar": Problem("calendar.in_use", count=plans)})
    cal.delete()
    revision_write(desk, note="calendar removed")
    return True


def _hours(spans: list[tuple[str, str]]) -> list[list[int]]:
    try:
        cal = weekly("UTC", {0: list(spans), 1: [("00:00", "24:00")]})
    except CalendarError as exc:
        raise _refuse("hours", exc) from None
    first = calendar_to_data(cal)["week"]
    assert isinstance(first, list)
    return first[0]


@transaction.atomic
def calendar_day_set(
    *,
    actor,
    desk: Desk,
    day: date,
    kind: str,
    name: str = "",
    hours: list[tuple[str, str]] | None = None,
) -> CalendarDay:
    """A manual closure (no hours) or short day (its hours) on one date."""
    authorise(actor, "desk.sla", desk)
    cal = BusinessCalendar.objects.filter(desk=desk).first()
    if cal is None:
        raise InvalidInput({"calendar": Problem("calendar.missing")})
    if kind not in ("closure", "short"):
        raise InvalidInput({"kind": Problem("calendar.day_kind")})
    spans = _hours(hours or [])
    if kind == "short" and not spans:
        raise InvalidInput({"hours": Problem("calendar.short_day_hours")})
    if kind == "closure" and spans:
        raise InvalidInput({"hours": Problem("calendar.closed_day_hours")})
    row, _ = CalendarDay.objects.update_or_create(
        calendar=cal,
        day=day,
        defaults={"kind": kind, "name": name[:200], "hours": spans, "source_version": ""},
    )
    try:
        calendar_of_rows(cal)
    except CalendarError as exc:
        raise _refuse("hours", exc) from None
    revision_write(desk, note=f"day {day.isoformat()}")
    return row


@transaction.atomic
def calendar_day_remove(*, actor, desk: Desk, day: date) -> int:
    authorise(actor, "desk.sla", desk)
    removed, _ = CalendarDay.objects.filter(calendar__desk=desk, day=day).delete()
    if removed:
        revision_write(desk, note=f"day {day.isoformat()} removed")
    return removed


# -- public holidays -----------------------------------------------------------------------


def holidays_version() -> str:
    import holidays

    return str(holidays.__version__)


def _package_holidays(cal: BusinessCalendar, years: range) -> dict[date, str]:
    import holidays

    found = holidays.country_holidays(
        cal.holiday_country, subdiv=cal.holiday_subdivision or None, years=list(years)
    )
    return {day: str(name) for day, name in sorted(found.items())}


def calendar_holidays_diff(*, desk: Desk, years: range) -> dict[str, list]:
    """What the installed `holidays` package says for `years` that the stored days do
    not: days to add, imported days it no longer knows (a holiday abolished, or the
    package corrected), and renamed ones. Staff read this before accepting it."""
    cal = BusinessCalendar.objects.filter(desk=desk).first()
    if cal is None or not cal.holiday_country:
        return {"added": [], "removed": [], "renamed": []}
    wanted = _package_holidays(cal, years)
    stored = {
        d.day: d for d in cal.days.filter(day__year__gte=years.start, day__year__lt=years.stop)
    }
    return {
        "added": [(day, name) for day, name in wanted.items() if day not in stored],
        "removed": [
            (day, row.name)
            for day, row in stored.items()
            if row.kind == "holiday" and day not in wanted
        ],
        "renamed": [
            (day, stored[day].name, name)
            for day, name in wanted.items()
            if day in stored and stored[day].kind == "holiday" and stored[day].name != name
        ],
    }


@transaction.atomic
def calendar_holidays_accept(*, actor, desk: Desk, years: range) -> dict[str, list]:
    """Store the package's holidays for `years` as dated days (with its version); a day
    set by hand is left as it is. Returns the difference that was accepted."""
    authorise(actor, "desk.sla", desk)
    cal = BusinessCalendar.objects.filter(desk=desk).first()
    if cal is None or not cal.holiday_country:
        raise InvalidInput({"holiday_country": Problem("calendar.no_country")})
    if len(years) > MAX_YEARS:
        raise InvalidInput({"years": Problem("calendar.years_too_many", limit=MAX_YEARS)})
    if not years:
        raise InvalidInput({"years": Problem("calendar.years_reversed")})
    diff = calendar_holidays_diff(desk=desk, years=years)
    version = holidays_version()
    for day, _name in diff["removed"]:
        CalendarDay.objects.filter(calendar=cal, day=day, kind="holiday").delete()
    for day, name in diff["added"]:
        CalendarDay.objects.create(
            calendar=cal, day=day, kind="holiday", name=name[:200], source_version=version
        )
    for day, _old, name in diff["renamed"]:
        CalendarDay.objects.filter(calendar=cal, day=day).update(
            name=name[:200], source_version=version
        )
    if any(diff.values()):
        revision_write(desk, note=f"holidays {cal.holiday_country} {version}")
    return diff


# -- plans -----------------------------------------------------------------------------------


def plan_problems(
    *, desk: Desk, slug: str, name: str, targets: dict[str, dict[str, int]], warn_percent: int
) -> dict[str, Problem]:
    """What is wrong with a plan's own values (field -> problem); empty when nothing is."""
    errors: dict[str, Problem] = {}
    if not slug or not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > MAX_SLUG:
        errors["slug"] = Problem("plan.slug_invalid", limit=MAX_SLUG)
    if not name.strip():
        errors["name"] = Problem("input.required")
    if not 0 < warn_percent < 100:
        errors["warn_percent"] = Problem("plan.warn_percent")
    priorities = desk.workflow.workflow.priorities
    for priority, limits in targets.items():
        if priority not in priorities:
            errors[f"targets.{priority}"] = Problem("ticket.priority.unknown", value=priority)
            continue
        for target, minutes in limits.items():
            where = f"targets.{priority}.{target}"
            if target not in TARGET_KEYS:
                errors[where] = Problem("plan.target_unknown", value=target)
            elif not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
                errors[where] = Problem("plan.target_not_positive")
            elif minutes > MAX_TARGET_MINUTES:
                errors[where] = Problem("plan.target_too_long")
    return errors


@transaction.atomic
def plan_save(
    *,
    actor,
    desk: Desk,
    slug: str,
    name: str,
    targets: dict[str, dict[str, int]],
    around_the_clock: bool = False,
    desk_default: bool = False,
    warn_percent: int = 80,
) -> SlaPlan:
    """Create or replace a plan: `targets` is {priority: {target: business minutes}}."""
    authorise(actor, "desk.sla", desk)
    cal = BusinessCalendar.objects.filter(desk=desk).first()
    errors: dict[str, Problem] = plan_problems(
        desk=desk, slug=slug, name=name, targets=targets, warn_percent=warn_percent
    )
    if cal is None:
        errors["calendar"] = Problem("plan.calendar_required")
    if errors or cal is None:
        raise InvalidInput(errors)
    if desk_default:
        SlaPlan.objects.filter(desk=desk, desk_default=True).exclude(slug=slug).update(
            desk_default=False
        )
    plan, _ = SlaPlan.objects.update_or_create(
        desk=desk,
        slug=slug,
        defaults={
            "name": name.strip()[:200],
            "calendar": cal,
            "around_the_clock": around_the_clock,
            "desk_default": desk_default,
            "warn_percent": warn_percent,
        },
    )
    plan.targets.all().delete()
    SlaTarget.objects.bulk_create(
        SlaTarget(plan=plan, priority=p, target=t, minutes=m)
        for p, limits in targets.items()
        for t, m in limits.items()
    )
    revision_write(desk, note=f"plan {slug}")
    return plan


@transaction.atomic
def organisation_plan_set(
    *, actor, desk: Desk, organisation: Organisation, plan: SlaPlan | None
) -> None:
    """Put a customer organisation on a plan of the desk (None: the desk's default)."""
    authorise(actor, "desk.sla", desk)
    if not desk.organisations.filter(pk=organisation.pk).exists():
        raise InvalidInput({"organisation": Problem("plan.organisation_other_desk")})
    if plan is not None and plan.desk_id != desk.pk:
        raise InvalidInput({"plan": Problem("plan.other_desk")})
    if plan is None:
        OrganisationPlan.objects.filter(desk=desk, organisation=organisation).delete()
    else:
        OrganisationPlan.objects.update_or_create(
            desk=desk, organisation=organisation, defaults={"plan": plan}
        )
    revision_write(desk, note=f"organisation {organisation.slug}")


@transaction.atomic
def plan_delete(*, actor, desk: Desk, slug: str) -> bool:
    """Remove a plan no organisation is on; running clocks on it are re-planned on the
    desk's default (met and stopped ones keep what they measured)."""
    authorise(actor, "desk.sla", desk)
    plan = SlaPlan.objects.filter(desk=desk, slug=slug).first()
    if plan is None:
        raise InvalidInput({"plan": Problem("plan.not_found", value=slug)})
    organisations = OrganisationPlan.objects.filter(plan=plan).count()
    if organisations:
        raise InvalidInput({"plan": Problem("plan.in_use", count=organisations)})
    plan.delete()
    revision_write(desk, note=f"plan {slug} removed")
    return True
