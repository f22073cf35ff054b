"""The estimate's rules, without Django: parsing hours, when a grant is withdrawn, and
when logged time is said to reach 80 % and 100 %."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from casedesk.workflow.estimate import (
    awaiting_grant,
    crossing,
    parse_hours,
    percent_used,
    withdraws,
)

hours = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2)


def test_parse_hours():
    assert parse_hours("6.5") == Decimal("6.50")
    assert parse_hours("6,5") == Decimal("6.50")
    assert parse_hours(" 9 ") == Decimal("9.00")
    for bad in ("", "0", "-1", "0.001", "1e3", "NaN", "inf", "100000", None, "x"):
        assert parse_hours(bad) is None, bad


@given(before=hours, after=hours, granted=hours)
def test_only_a_raise_above_the_grant_withdraws_it(before, after, granted):
    assert withdraws(before, after, granted) == (after > granted and after > before)
    assert not withdraws(before, after, None)  # nothing granted, nothing withdrawn
    if after <= before:
        assert not withdraws(before, after, granted)  # lowering never withdraws
    # whenever a grant is withdrawn, the estimate waits for a new one
    if withdraws(before, after, granted):
        assert awaiting_grant(after, granted)


@given(estimate=hours, granted=st.none() | hours)
def test_a_granted_estimate_waits_only_when_above_the_grant(estimate, granted):
    assert awaiting_grant(estimate, granted) == (granted is None or estimate > granted)
    assert not awaiting_grant(None, granted)


@given(steps=st.lists(st.integers(min_value=1, max_value=600), max_size=30), estimate=hours)
def test_each_threshold_is_said_once_and_in_order(steps, estimate):
    warned = told = False
    minutes = 0
    for step in steps:
        minutes += step
        now = crossing(minutes, estimate, warned=warned, told=told)
        assert not (now.warn and warned) and not (now.tell and told)
        warned, told = warned or now.warn, told or now.tell
        assert warned == (percent_used(minutes, estimate) >= 80)
        assert told == (percent_used(minutes, estimate) >= 100)
        assert warned or not told  # 100 % is never said before 80 %
