"""SLA clocks folded from events: hand-computed cases, then properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from casedesk.workflow.calendar import add, always_open, weekly
from casedesk.workflow.sla import (
    Clocks,
    CustomerWrote,
    Moved,
    Opened,
    Recalendared,
    Replied,
    Reprioritised,
    clocks_from_data,
    clocks_to_data,
    default_modes,
    fold,
    step,
)

AMS = ZoneInfo("Europe/Amsterdam")
H = timedelta(hours=1)
OFFICE = weekly("Europe/Amsterdam", {d: [("08:00", "17:00")] for d in range(5)})
PLAN = {
    "normal": {"first_response": 4 * H, "next_response": 8 * H, "resolution": 16 * H},
    "high": {"first_response": 1 * H, "next_response": 2 * H, "resolution": 4 * H},
}
OPEN = default_modes("open", "supplier")
WAITING = default_modes("waiting", "customer")
RESOLVED = default_modes("resolved", "customer")


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_first_response_and_resolution_on_an_8x5_calendar():
    clocks = fold(OFFICE, PLAN, [Opened(ams(2026, 11, 6, 15), "normal", "new", OPEN)])
    first, resolution = clocks.current("first_response"), clocks.current("resolution")
    # Friday 15:00 + 4 business hours: 2 on Friday, 2 on Monday
    assert first.due_at(OFFICE) == ams(2026, 11, 9, 10)
    assert resolution.due_at(OFFICE) == ams(2026, 11, 10, 13)  # 2 + 9 + 5 hours
    assert first.warn_at(OFFICE, 0.75) == ams(2026, 11, 9, 9)


def test_a_pause_across_a_weekend_moves_the_due_time_by_the_business_time_paused():
    events = [
        Opened(ams(2026, 11, 5, 9), "normal", "new", OPEN),  # Thursday
        Replied(ams(2026, 11, 5, 10)),
        Moved(ams(2026, 11, 6, 15), "waiting", WAITING),  # Friday 15:00
        Moved(ams(2026, 11, 9, 12), "open", OPEN),  # back on Monday 12:00
    ]
    clocks = fold(OFFICE, PLAN, events)
    resolution = clocks.current("resolution")
    # used: Thursday 09-17 (8 h) + Friday 08-15 (7 h) = 15 h; one hour left on Monday
    assert resolution.used == 15 * H and resolution.breached_at is None
    assert resolution.due_at(OFFICE) == ams(2026, 11, 9, 13)
    assert clocks.current("first_response").met_at == ams(2026, 11, 5, 10)


def test_resolving_straight_from_a_paused_status_meets_the_target():
    events = [
        Opened(ams(2026, 11, 9, 9), "normal", "new", OPEN),
        Moved(ams(2026, 11, 9, 10), "waiting", WAITING, responded=True),
        Moved(ams(2026, 11, 20, 10), "resolved", RESOLVED, responded=True),
    ]
    resolution = fold(OFFICE, PLAN, events).current("resolution")
    assert resolution.met_at == ams(2026, 11, 20, 10)
    assert resolution.used == H and resolution.breached_at is None


def test_a_reopen_long_after_starts_a_fresh_cycle_that_does_not_breach_at_once():
    events = [
        Opened(ams(2026, 1, 5, 9), "normal", "new", OPEN),
        Moved(ams(2026, 1, 5, 11), "resolved", RESOLVED, responded=True),
        Moved(ams(2026, 6, 1, 9), "open", OPEN, reopened=True),
    ]
    clocks = fold(OFFICE, PLAN, events)
    assert clocks.cycle == 2
    again = clocks.current("resolution")
    assert (again.cycle, again.used, again.breached_at) == (2, timedelta(0), None)
    assert again.due_at(OFFICE) == ams(2026, 6, 2, 16)  # Monday 09:00 + 8 h + 8 h
    assert [c.cycle for c in clocks.clocks if c.target == "resolution"] == [1, 2]


def test_a_priority_raised_after_time_was_used_counts_that_time_and_may_breach_at_once():
    start = ams(2026, 11, 9, 9)
    clocks = fold(
        OFFICE,
        PLAN,
        [
            Opened(start, "normal", "new", OPEN),
            Replied(start + H),
            Reprioritised(start + 2 * H, "high"),
        ],
    )
    resolution = clocks.current("resolution")
    assert resolution.limit == 4 * H and resolution.due_at(OFFICE) == start + 4 * H
    late = fold(
        OFFICE, PLAN, [Opened(start, "normal", "new", OPEN), Reprioritised(start + 5 * H, "high")]
    )
    resolution = late.current("resolution")
    assert (resolution.breached_at, resolution.breach_reason) == (start + 5 * H, "target_lowered")
    first = late.current("first_response")  # 4 h at normal had passed at 13:00 already
    assert (first.breached_at, first.breach_reason) == (start + 4 * H, "late")


def test_the_next_response_runs_from_the_oldest_unanswered_customer_message():
    start = ams(2026, 11, 9, 9)
    clocks = fold(
        OFFICE,
        PLAN,
        [
            Opened(start, "normal", "new", OPEN),
            Replied(start + H),
            CustomerWrote(start + 2 * H),
            CustomerWrote(start + 3 * H),  # the clock keeps the older message's start
            Replied(start + 5 * H),
        ],
    )
    answered = clocks.current("next_response")
    assert (answered.started_at, answered.met_at) == (start + 2 * H, start + 5 * H)


def test_two_events_in_the_same_second():
    at = datetime(2026, 11, 9, 12, tzinfo=UTC)
    clocks = fold(
        always_open("UTC"),
        PLAN,
        [Opened(at, "high", "new", OPEN), Replied(at), Moved(at, "resolved", RESOLVED)],
    )
    assert clocks.current("first_response").met_at == at
    assert clocks.current("resolution").met_at == at


# -- properties ------------------------------------------------------------------------

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
PLACES = {
    "open": OPEN,
    "waiting": WAITING,
    "third": default_modes("waiting", "third_party"),
    "resolved": RESOLVED,
}


@st.composite
def histories(draw):
    minutes = draw(st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=12))
    at = T0
    events = [Opened(at, draw(st.sampled_from(["normal", "high"])), "open", OPEN)]
    for gap in minutes:
        at += timedelta(minutes=gap)
        kind = draw(st.sampled_from(["move", "reply", "customer", "priority", "reopen"]))
        if kind == "move":
            place = draw(st.sampled_from(sorted(PLACES)))
            events.append(Moved(at, place, PLACES[place], responded=draw(st.booleans())))
        elif kind == "reply":
            events.append(Replied(at))
        elif kind == "customer":
            events.append(CustomerWrote(at))
        elif kind == "priority":
            events.append(Reprioritised(at, draw(st.sampled_from(["normal", "high"]))))
        else:
            events.append(Moved(at, "open", OPEN, reopened=True))
    return events


def _summary(clocks):
    return [
        (c.target, c.cycle, c.used, c.met_at, c.stopped_at, c.breached_at, c.due_at(OFFICE))
        for c in clocks.clocks
    ]


@settings(max_examples=150, deadline=None)
@given(histories(), st.data())
def test_looking_at_the_clocks_in_between_changes_nothing(events, data):
    """Live changes bring the clocks up to date at every event; a rebuild sees only some
    of them. A no-op event (the ticket 'moved' to the place it is in) inserted anywhere
    must leave every clock exactly as it was."""
    at = data.draw(st.integers(0, len(events) - 1))
    then = events[at]
    clocks_then = fold(OFFICE, PLAN, events[: at + 1])
    noop = Moved(then.at, clocks_then.place, clocks_then.modes)
    assert _summary(fold(OFFICE, PLAN, events)) == _summary(
        fold(OFFICE, PLAN, [*events[: at + 1], noop, *events[at + 1 :]])
    )


@settings(max_examples=150, deadline=None)
@given(histories())
def test_time_used_never_exceeds_the_open_time_the_clock_lived(events):
    clocks = fold(OFFICE, PLAN, events)
    for c in clocks.clocks:
        end = c.met_at or c.stopped_at or c.since
        assert timedelta(0) <= c.used <= max(timedelta(0), end - c.started_at)
        if c.breached_at is not None and c.breach_reason == "late":
            assert c.breached_at >= c.started_at


@settings(max_examples=150, deadline=None)
@given(histories())
def test_stepping_a_stored_state_change_by_change_agrees_with_the_fold(events):
    """The live path: after every change the state is stored as data and read back before
    the next one is stepped. It must end exactly where the rebuild's fold ends."""
    state = Clocks(plan=PLAN)
    for event in events:
        state = clocks_from_data(json.loads(json.dumps(clocks_to_data(step(OFFICE, state, event)))))
    assert state == fold(OFFICE, PLAN, events)


MORNINGS = weekly("Europe/Amsterdam", {d: [("08:00", "12:00")] for d in range(5)})


def test_a_calendar_edited_while_a_clock_runs_counts_each_stretch_on_its_own_calendar():
    opened = Opened(ams(2026, 11, 2, 10), "normal", "new", OPEN)  # Monday 10:00
    state = step(OFFICE, Clocks(plan=PLAN), opened)
    state = step(OFFICE, state, Replied(ams(2026, 11, 2, 11)))
    # 14:00: four business hours used on the full-day calendar; mornings only from now on
    state = step(OFFICE, state, Recalendared(ams(2026, 11, 2, 14)))
    resolution = state.current("resolution")
    assert resolution.used == 4 * H
    # 12 h left on mornings: Tuesday to Thursday 4 h each -> Thursday 12:00
    assert resolution.due_at(MORNINGS) == ams(2026, 11, 5, 12)
    first = state.current("first_response")
    assert first.met_at == ams(2026, 11, 2, 11) and first.used == 1 * H


def test_store_bededag_counts_until_2023_and_is_a_working_day_from_2024():
    import holidays

    def danish(year: int):
        closed = {day: [] for day in holidays.country_holidays("DK", years=year)}
        return weekly("Europe/Copenhagen", {d: [("08:00", "17:00")] for d in range(5)}, closed)

    cph = ZoneInfo("Europe/Copenhagen")
    # 2023: Thursday 4 May 16:00 + 2 h -> Friday 5 May is Store Bededag -> Monday 8 May 09:00
    assert add(danish(2023), datetime(2023, 5, 4, 16, tzinfo=cph), 2 * H) == datetime(
        2023, 5, 8, 9, tzinfo=cph
    )
    # 2024: Thursday 25 April 16:00 + 2 h -> Friday 26 April is a working day now: 09:00
    assert add(danish(2024), datetime(2024, 4, 25, 16, tzinfo=cph), 2 * H) == datetime(
        2024, 4, 26, 9, tzinfo=cph
    )
