"""Business time: hand-computed cases, then properties over random calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from casedesk.workflow.calendar import (
    Calendar,
    CalendarError,
    add,
    always_open,
    between,
    is_open,
    next_open,
    weekly,
)

CPH = ZoneInfo("Europe/Copenhagen")
H = timedelta(hours=1)


def cph(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH)


def office(zone: str = "Europe/Copenhagen", exceptions=None) -> Calendar:
    """08:00-17:00 on weekdays (seed 003's telephone hours)."""
    return weekly(zone, {d: [("08:00", "17:00")] for d in range(5)}, exceptions)


# Danish public holidays around Easter 2026 (5 April): Maundy Thursday, Good Friday,
# Easter Monday; the shipped calendars take them from the holidays package.
EASTER_2026 = {date(2026, 4, 2): [], date(2026, 4, 3): [], date(2026, 4, 6): []}


def test_an_8x5_week_with_easter_in_denmark():
    cal = office(exceptions=EASTER_2026)
    # Wednesday 1 April 15:00 + 4 business hours: 2 on Wednesday, then Thursday, Friday,
    # the weekend and Monday are closed, so 2 more on Tuesday 7 April from 08:00.
    assert add(cal, cph(2026, 4, 1, 15), 4 * H) == cph(2026, 4, 7, 10)
    assert between(cal, cph(2026, 4, 1, 15), cph(2026, 4, 7, 10)) == 4 * H


def test_a_ticket_created_on_a_saturday_starts_counting_on_monday_morning():
    cal = office()
    saturday = cph(2026, 11, 7, 11, 30)
    assert not is_open(cal, saturday)
    assert next_open(cal, saturday) == cph(2026, 11, 9, 8)
    assert add(cal, saturday, 8 * H) == cph(2026, 11, 9, 16)
    assert add(cal, saturday, 9 * H) == cph(2026, 11, 9, 17)  # the end of the day, not 08:00
    assert add(cal, saturday, 10 * H) == cph(2026, 11, 10, 9)


def test_a_short_day_and_a_manual_closure():
    cal = office(exceptions={date(2026, 12, 23): [("08:00", "12:00")], date(2026, 12, 24): []})
    assert add(cal, cph(2026, 12, 23, 11), 2 * H) == cph(2026, 12, 25, 9)


def test_both_daylight_saving_changes_on_24x7():
    cal = always_open("Europe/Copenhagen")
    before_spring = cph(2026, 3, 29, 1, 30)  # the clock jumps from 02:00 to 03:00
    assert add(cal, before_spring, H) == cph(2026, 3, 29, 3, 30)
    before_autumn = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    after = add(cal, before_autumn, H)
    assert after == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 again, winter time
    assert after.astimezone(CPH).hour == 2


def test_a_desk_open_all_day_has_23_and_25_hour_days_with_no_gap_at_midnight():
    cal = weekly("Europe/Copenhagen", {d: [("00:00", "24:00")] for d in range(7)})
    assert between(cal, cph(2026, 3, 29), cph(2026, 3, 30)) == 23 * H
    assert between(cal, cph(2026, 10, 25), cph(2026, 10, 26)) == 25 * H
    midnight = cph(2026, 6, 1, 23, 30)
    assert add(cal, midnight, H) == cph(2026, 6, 2, 0, 30)
    assert is_open(cal, cph(2026, 6, 2))


def test_hours_across_midnight():
    night = weekly("Europe/Amsterdam", {4: [("22:00", "02:00")]})  # Friday night shift
    ams = ZoneInfo("Europe/Amsterdam")
    friday = datetime(2026, 11, 6, 23, tzinfo=ams)
    assert add(night, friday, 2 * H) == datetime(2026, 11, 7, 1, tzinfo=ams)
    assert add(night, friday, 3 * H) == datetime(2026, 11, 7, 2, tzinfo=ams)
    assert add(night, friday, 4 * H) == datetime(2026, 11, 13, 23, tzinfo=ams)


def test_a_customer_elsewhere_is_counted_in_the_desk_s_zone():
    cal = office()
    new_york = datetime(2026, 11, 9, 6, tzinfo=ZoneInfo("America/New_York"))  # 12:00 CPH
    assert add(cal, new_york, 6 * H) == cph(2026, 11, 10, 9)


def test_impossible_calendars_are_refused_with_a_code():
    with pytest.raises(CalendarError) as unknown:
        office("Europe/Atlantis")
    assert unknown.value.code == "calendar.zone_unknown"
    with pytest.raises(CalendarError) as reversed_:
        Calendar("UTC", (((600, 500),),) + ((),) * 6)
    assert reversed_.value.code == "calendar.interval_invalid"
    with pytest.raises(CalendarError) as overlap:
        weekly("UTC", {0: [("08:00", "12:00"), ("11:00", "13:00")]})
    assert overlap.value.code == "calendar.intervals_overlap"
    with pytest.raises(CalendarError) as never:
        weekly("UTC", {})
    assert never.value.code == "calendar.never_open"
    # open a quarter of an hour a week: 120 hours would take over nine years, past the
    # horizon, so it is refused rather than searched for ever
    sparse = weekly("UTC", {6: [("00:00", "00:15")]})
    with pytest.raises(CalendarError) as too_far:
        add(sparse, datetime(2025, 1, 1, tzinfo=UTC), 120 * H)
    assert too_far.value.code == "calendar.never_open"
    with pytest.raises(CalendarError):
        add(office(), datetime(2026, 1, 1), H)  # a naive time


# -- properties ------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Copenhagen",
    "Europe/Prague",
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "Australia/Lord_Howe",  # a 30-minute change
    "Asia/Kolkata",
]


@st.composite
def calendars(draw) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return always_open(zone)
    week = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
        cuts = cuts[: len(cuts) // 2 * 2]
        week.append(tuple((a * 15, b * 15) for a, b in zip(cuts[::2], cuts[1::2], strict=True)))
    # open at least two hours a week: the longest sums drawn here (240 h) then fit well
    # inside the calendar's horizon; a calendar open less is refused as never open
    assume(sum(b - a for day in week for a, b in day) >= 120)
    closed = draw(st.sets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=20))
    return Calendar(zone, tuple(week), {d: () for d in closed})  # type: ignore[arg-type]


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(0, 120 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations, durations)
def test_adding_x_then_y_is_adding_x_plus_y(cal, a, x, y):
    assert add(cal, add(cal, a, x), y) == add(cal, a, x + y)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations)
def test_the_time_between_a_and_a_plus_x_is_x(cal, a, x):
    assert between(cal, a, add(cal, a, x)) == x


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations)
def test_a_result_never_falls_inside_closed_time(cal, a, x):
    assume(x > timedelta(0))
    end = add(cal, a, x)
    # open just before the result: the last moment counted was open time
    assert is_open(cal, end - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, instants)
def test_between_is_additive_and_antisymmetric(cal, a, b):
    middle = a + (b - a) / 2
    assert between(cal, a, b) == between(cal, a, middle) + between(cal, middle, b)
    assert between(cal, b, a) == -between(cal, a, b)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), instants, durations)
def test_24x7_is_wall_clock_time(zone, a, x):
    assert add(always_open(zone), a, x) == a + x
