"""The service sheet's pure rules: its moves, billed time by rounding, and what the
checker says about `sheet:` effects in a workflow file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casedesk.workflow import load_text
from casedesk.workflow.sheet import (
    LOCKED,
    MOVES,
    STATES,
    Rounding,
    billed_minutes,
    is_locked,
    sheet_after,
)

from .test_loader import MINIMAL, line_of, problems


def test_the_moves():
    assert sheet_after("open", "submit") == "submitted"
    assert sheet_after("submitted", "return") == "returned"
    assert sheet_after("returned", "submit") == "submitted"
    assert sheet_after("submitted", "approve") == "approved"
    assert sheet_after("returned", "approve") == "approved"
    assert sheet_after("open", "lock") == "approved"
    # a move that does not apply leaves the sheet as it is
    assert sheet_after("open", "return") == "open"
    assert sheet_after("approved", "submit") == "approved"


@given(st.sampled_from(STATES), st.lists(st.sampled_from(MOVES), max_size=8))
def test_a_locked_sheet_stays_locked_whatever_the_workflow_does(state, moves):
    for move in moves:
        after = sheet_after(state, move)
        if is_locked(state):
            assert after == state
        state = after
    assert state in STATES


@given(
    st.integers(min_value=0, max_value=1440),
    st.integers(min_value=1, max_value=240),
    st.integers(min_value=0, max_value=240),
    st.sampled_from(["up", "nearest"]),
)
def test_billed_time_is_a_multiple_and_never_below_the_minimum(minutes, step, least, mode):
    rule = Rounding(increment=step, minimum=least, mode=mode)
    billed = billed_minutes(minutes, billable=True, rule=rule)
    if minutes == 0:
        assert billed == 0
        return
    assert billed >= least
    assert billed == least or billed % step == 0
    if mode == "up":
        assert billed >= minutes
        assert billed - minutes < step or billed == least
    else:
        assert abs(billed - minutes) <= step // 2 + step % 2 or billed in (least, step)
    assert billed_minutes(minutes, billable=False, rule=rule) == 0


def test_rounding_examples():
    assert billed_minutes(50, billable=True, rule=Rounding(15)) == 60
    assert billed_minutes(7, billable=True, rule=Rounding(15, mode="nearest")) == 15
    assert billed_minutes(22, billable=True, rule=Rounding(15, mode="nearest")) == 15
    assert billed_minutes(23, billable=True, rule=Rounding(15, mode="nearest")) == 30
    assert billed_minutes(40, billable=True, rule=Rounding(30, 60, "nearest")) == 60
    assert billed_minutes(50, billable=True) == 50
    with pytest.raises(ValueError):
        Rounding(0)
    assert {"approved", "invoiced"} == LOCKED


FINISH = "  finish:\n    label: {en: Finish}\n    from: [open]\n    to: done\n    by: [staff]\n"


def test_a_workflow_may_move_the_sheet():
    text = MINIMAL.replace(
        "    to: waiting\n    by: [staff]\n",
        "    to: waiting\n    by: [staff]\n    effects:\n      - sheet: submit\n",
    ).replace(FINISH, FINISH + "    effects:\n      - sheet: lock\n")
    wf = load_text(text, "flow.yaml")
    assert [(e.kind, e.value) for e in wf.transitions["ask"].effects] == [("sheet", "submit")]


@pytest.mark.parametrize(
    ("effects", "expected"),
    [
        ("      - sheet: bill\n", "'bill' is not a valid value for sheet"),
        ("      - sheet: submit\n", "not the customer's turn in 'done'"),
        ("      - sheet: approve\n      - sheet: lock\n", "moves the service sheet once"),
    ],
)
def test_the_checker_refuses_sheet_moves_that_make_no_sense(effects, expected):
    text = MINIMAL.replace(FINISH, FINISH + "    effects:\n" + effects)
    found = problems(text)
    match = [p for p in found if expected in p.message]
    assert match, [str(p) for p in found]
    assert match[0].line > line_of(text, "  finish:")


def test_a_cancelled_ticket_does_not_approve_its_sheet():
    text = MINIMAL.replace("    category: closed", "    category: cancelled").replace(
        FINISH, FINISH + "    effects:\n      - sheet: approve\n"
    )
    found = problems(text)
    assert any("carries no billable work" in p.message for p in found), [str(p) for p in found]
