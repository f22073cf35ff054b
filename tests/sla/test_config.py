"""Calendars and plans: what is stored, and the refusals that change nothing."""

from datetime import date

import pytest

from casedesk.common.errors import Forbidden, InvalidInput
from casedesk.sla import services
from casedesk.sla.models import BusinessCalendar, CalendarDay, SlaPlan, SlaRevision

from .conftest import WEEKDAYS_8_17


def _counts():
    return (
        BusinessCalendar.objects.count(),
        CalendarDay.objects.count(),
        SlaPlan.objects.count(),
        SlaRevision.objects.count(),
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"zone": "Europe/Atlantis", "week": WEEKDAYS_8_17}, "zone"),
        ({"zone": "Europe/Oslo", "week": {0: [("08:00", "12:00"), ("11:00", "17:00")]}}, "week"),
        ({"zone": "Europe/Oslo", "week": {0: [("17:00", "08:00")]}}, "week"),
        ({"zone": "Europe/Oslo", "week": {0: [("08:00", "25:00")]}}, "week"),
        ({"zone": "Europe/Oslo", "week": {}}, "week"),
        (
            {"zone": "Europe/Oslo", "week": WEEKDAYS_8_17, "holiday_country": "XX"},
            "holiday_country",
        ),
    ],
)
def test_a_bad_calendar_is_refused_and_nothing_changes(world, kwargs, field):
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        services.calendar_set(actor=world.admin, desk=world.desk, **kwargs)
    assert field in refused.value.errors
    assert _counts() == before


def test_hours_to_midnight_and_24x7(world):
    cal = services.calendar_set(
        actor=world.admin, desk=world.desk, zone="Europe/Prague", week={4: [("18:00", "24:00")]}
    )
    assert cal.week[4] == [[18 * 60, 24 * 60]]
    cal = services.calendar_set(actor=world.admin, desk=world.desk, zone="UTC", always=True)
    assert cal.always and BusinessCalendar.objects.count() == 1


def test_only_a_desk_admin_changes_service_levels(world):
    for who in (world.agent, world.lead, world.alice, world.outsider):
        with pytest.raises((Forbidden, Exception)):
            services.calendar_set(actor=who, desk=world.desk, zone="UTC", always=True)
    assert not BusinessCalendar.objects.exists()


def test_a_plan_needs_a_calendar_and_targets_above_zero(world):
    with pytest.raises(InvalidInput) as refused:
        services.plan_save(actor=world.admin, desk=world.desk, slug="p", name="P", targets={})
    assert "calendar" in refused.value.errors
    services.calendar_set(actor=world.admin, desk=world.desk, zone="UTC", always=True)
    before = _counts()
    for bad in (0, -5, "60", True):
        with pytest.raises(InvalidInput):
            services.plan_save(
                actor=world.admin,
                desk=world.desk,
                slug="p",
                name="P",
                targets={"normal": {"resolution": bad}},
            )
    with pytest.raises(InvalidInput):
        services.plan_save(
            actor=world.admin,
            desk=world.desk,
            slug="p",
            name="P",
            targets={"normal": {"lunch": 30}},
        )
    assert _counts() == before


def test_an_organisation_is_put_on_a_plan_of_the_desk_only(world, sla_desk):
    plan = SlaPlan.objects.get(desk=sla_desk)
    services.calendar_set(actor=world.admin, desk=world.other_desk, zone="UTC", always=True)
    other = services.plan_save(
        actor=world.admin,
        desk=world.other_desk,
        slug="x",
        name="X",
        targets={"normal": {"resolution": 60}},
    )
    with pytest.raises(InvalidInput):
        services.organisation_plan_set(
            actor=world.admin, desk=sla_desk, organisation=world.org_a, plan=other
        )
    services.organisation_plan_set(
        actor=world.admin, desk=sla_desk, organisation=world.org_a, plan=plan
    )
    assert SlaRevision.objects.filter(desk=sla_desk).last().organisations == {
        str(world.org_a.pk): plan.pk
    }


def test_holidays_are_stored_with_the_package_version_and_a_difference_is_shown(world):
    services.calendar_set(
        actor=world.admin,
        desk=world.desk,
        zone="Europe/Copenhagen",
        week=WEEKDAYS_8_17,
        holiday_country="DK",
    )
    diff = services.calendar_holidays_accept(
        actor=world.admin, desk=world.desk, years=range(2023, 2025)
    )
    days = {d.day: d for d in CalendarDay.objects.all()}
    assert date(2023, 5, 5) in days  # Store Bededag, the last time
    assert date(2024, 4, 26) not in days  # abolished from 2024
    assert days[date(2024, 3, 29)].source_version == services.holidays_version()
    assert len(diff["added"]) == len(days)
    # a stored day the package no longer has is shown, and stays until accepted
    CalendarDay.objects.create(
        calendar=days[date(2023, 5, 5)].calendar,
        day=date(2024, 4, 26),
        kind="holiday",
        name="Great Prayer Day",
        source_version="0.1",
    )
    shown = services.calendar_holidays_diff(desk=world.desk, years=range(2024, 2025))
    assert shown["removed"] == [(date(2024, 4, 26), "Great Prayer Day")]
    assert CalendarDay.objects.filter(day=date(2024, 4, 26)).exists()
    services.calendar_holidays_accept(actor=world.admin, desk=world.desk, years=range(2024, 2025))
    assert not CalendarDay.objects.filter(day=date(2024, 4, 26)).exists()


def test_closures_and_short_days(world, sla_desk):
    services.calendar_day_set(
        actor=world.admin,
        desk=sla_desk,
        day=date(2026, 12, 24),
        kind="short",
        hours=[("08:00", "12:00")],
    )
    services.calendar_day_set(
        actor=world.admin, desk=sla_desk, day=date(2026, 12, 31), kind="closure"
    )
    with pytest.raises(InvalidInput):
        services.calendar_day_set(
            actor=world.admin, desk=sla_desk, day=date(2026, 12, 30), kind="short"
        )
    cal = services.calendar_of_rows(BusinessCalendar.objects.get(desk=sla_desk))
    assert cal.hours_on(date(2026, 12, 24)) == ((480, 720),)
    assert cal.hours_on(date(2026, 12, 31)) == ()
