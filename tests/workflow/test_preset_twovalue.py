"""The 2Value story (seed 002) walked through the engine: forward only, asides, reopen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Given,
    next_step,
    next_timer,
    options,
    triggered,
)
from tests.workflow.preset_tickets import Preset

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
REPORTER = Actor("customer", "member", 10)
APPROVER = Actor("customer", "approver", 11)
CONSULTANT = Actor("staff", "agent", 1)
P = Preset.load(
    "twovalue",
    start=T0,
    reporter=REPORTER,
    type="incident",
    priority="normal",
    defaults={"progress_rank": 1},
)
WF = P.wf


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_the_file_keeps_the_seed_status_names():
    assert WF.slug == "twovalue"
    assert WF.languages == ("nl", "en")
    assert WF.order == "forward"
    names = {WF.text(s.label, "en") for s in WF.statuses.values()}
    assert names == {
        "Open",
        "Scheduled",
        "Pending input",
        "Started",
        "On hold",
        "Fixed",
        "Tested",
        "Delivered",
        "Closed",
        "Rejected",
    }
    assert WF.initial == "open"
    assert not WF.timers  # SLA plans come later; nothing is invented here


def test_the_full_forward_path():
    case = P.ticket()
    case, _ = P.step(
        case, CONSULTANT, "schedule", at(1), Given(comment="Start tomorrow 9:00", assignee_id=1)
    )
    assert (case.status, case.progress_rank) == ("scheduled", 2)
    case, _ = P.step(case, CONSULTANT, "start", at(24))
    case, _ = P.step(case, CONSULTANT, "fix", at(30))
    case, _ = P.step(case, CONSULTANT, "test", at(32), Given(comment="Test report attached"))
    assert (case.status, case.progress_rank) == ("tested", 5)
    case, _ = P.step(case, CONSULTANT, "deliver", at(33), Given(comment="Please confirm"))
    assert (case.status, case.progress_rank) == ("delivered", 6)
    assert P.keys(case, REPORTER) == {"confirm", "not_solved"}
    case, _ = P.step(case, REPORTER, "confirm", at(40))
    assert (case.status, case.progress_rank, case.cycle) == ("closed", 7, 1)


def test_a_case_always_has_someone_on_the_ball():
    case = P.ticket()
    by_key = {o.transition.key: o for o in options(WF, case, CONSULTANT)}
    assert by_key["start"].needs == ("assignee",)
    assert by_key["schedule"].needs == ("assignee", "comment")
    denied = P.refused(case, CONSULTANT, "start")
    assert denied.reason == "requirement"
    assert denied.missing == ("assignee",)
    started, _ = P.step(case, CONSULTANT, "start", at(1), Given(assignee_id=1))
    assert started.assignee_id == 1


def test_steps_can_be_skipped_forward():
    case = P.ticket(assignee_id=1)
    # open -> started skips scheduled
    case, _ = P.step(case, CONSULTANT, "start", at(1))
    assert (case.status, case.progress_rank) == ("started", 3)
    # no internal delivery needed: fixed and tested are skipped together
    assert {"fix", "deliver"} <= P.keys(case, CONSULTANT)
    case, _ = P.step(case, CONSULTANT, "deliver", at(2), Given(comment="Done, please check"))
    assert (case.status, case.progress_rank) == ("delivered", 6)


def test_a_fix_must_be_tested_before_delivery():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    case, _ = P.step(case, CONSULTANT, "fix", at(2))
    assert P.refused(case, CONSULTANT, "deliver", Given(comment="x")).reason == "wrong_status"
    assert P.refused(case, CONSULTANT, "test").missing == ("comment",)


def test_going_backwards_is_refused():
    case = P.ticket(assignee_id=1)
    case, _ = P.step(case, CONSULTANT, "start", at(1))
    case, _ = P.step(case, CONSULTANT, "fix", at(2))
    # the customer pauses the fixed case; planning or starting again would go back
    case, _ = P.step(case, APPROVER, "put_on_hold", at(3), Given(comment="Wait for the upgrade"))
    assert case.progress_rank == 4
    denied = P.refused(case, CONSULTANT, "start")
    assert denied.reason == "order"
    assert P.refused(case, CONSULTANT, "schedule", Given(comment="later")).reason == "order"
    assert "start" not in P.keys(case, CONSULTANT)
    # resuming returns to where it was
    case, _ = P.step(case, APPROVER, "resume", at(50))
    assert case.status == "fixed"


def test_staff_may_go_on_from_an_aside_when_it_is_not_backwards():
    case, _ = P.step(
        P.ticket(assignee_id=1),
        CONSULTANT,
        "ask_input",
        at(1),
        Given(comment="Please approve 6 hours", customer_assignee_id=11),
    )
    assert case.status == "pending_input"
    # the approval came by phone: the consultant plans straight away
    case, _ = P.step(case, CONSULTANT, "schedule", at(2), Given(comment="Starts Wednesday"))
    assert (case.status, case.progress_rank) == ("scheduled", 2)


def test_reopen_goes_back_and_starts_a_new_cycle():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    case, _ = P.step(case, CONSULTANT, "deliver", at(2), Given(comment="Please check"))
    denied = P.refused(case, REPORTER, "not_solved")
    assert (denied.reason, denied.missing) == ("requirement", ("comment",))
    case, _ = P.step(case, REPORTER, "not_solved", at(20), Given(comment="The export still fails"))
    assert (case.status, case.cycle, case.progress_rank) == ("open", 2, 1)
    assert case.assignee_id == 1  # still on the ball
    # in the new cycle the case may be planned again
    case, _ = P.step(case, CONSULTANT, "schedule", at(21), Given(comment="Tomorrow"))
    case, _ = P.step(case, CONSULTANT, "start", at(40))
    case, _ = P.step(case, CONSULTANT, "deliver", at(41), Given(comment="Fixed now"))
    case, _ = P.step(case, APPROVER, "confirm", at(45))
    assert (case.status, case.cycle) == ("closed", 2)
    # only staff reopen a closed case
    assert P.refused(case, APPROVER, "reopen_closed", Given(comment="again")).reason == "role"
    case, _ = P.step(case, CONSULTANT, "reopen_closed", at(60), Given(comment="Came back"))
    assert (case.status, case.cycle, case.progress_rank) == ("open", 3, 1)


def test_staff_close_a_delivery_with_the_customers_confirmation():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    case, _ = P.step(case, CONSULTANT, "deliver", at(2), Given(comment="Please confirm"))
    assert P.refused(case, CONSULTANT, "close_confirmed").missing == ("comment",)
    case, _ = P.step(
        case, CONSULTANT, "close_confirmed", at(30), Given(comment='Mail: "works, thanks"')
    )
    assert case.status == "closed"


def test_pending_input_needs_a_person_at_the_customer():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    denied = P.refused(case, CONSULTANT, "ask_input", Given(comment="Which server?"))
    assert (denied.reason, denied.missing) == ("requirement", ("customer_assignee",))
    case, _ = P.step(
        case,
        CONSULTANT,
        "ask_input",
        at(2),
        Given(comment="Which server?", customer_assignee_id=10),
    )
    assert (case.status, case.customer_assignee_id) == ("pending_input", 10)
    step = next_step(WF, case, REPORTER, "nl", at(3))
    assert (step.turn, step.active, step.status_label) == ("customer", True, "Pending input")
    assert [e.event for e in step.events] == ["customer_commented"]


def test_a_customer_comment_returns_pending_input_to_the_previous_status():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    case, _ = P.step(
        case,
        CONSULTANT,
        "ask_input",
        at(2),
        Given(comment="Which server?", customer_assignee_id=10),
    )
    case = replace(case, awaiting_reply_since=at(5), last_activity_at=at(5))
    key = triggered(WF, case, "customer_commented")
    assert key == "input_received"
    case, _ = P.step(case, SYSTEM_ACTOR, key, at(5))
    assert (case.status, case.progress_rank) == ("started", 3)
    assert triggered(WF, case, "customer_commented") is None  # only while pending input


def test_granting_the_estimate_is_an_approvers_move_that_returns():
    # The estimate itself lives beside the case (casedesk.sheets): the engine only sees
    # the transition, whose `estimate: grant` effect the sheet's observer carries out.
    grant = WF.transitions["grant_estimate"]
    assert [(e.kind, e.value) for e in grant.effects] == [("estimate", "grant")]
    assert "hour_estimate" not in WF.fields and "granted_at" not in WF.fields
    case = P.ticket(assignee_id=1)
    case, _ = P.step(
        case,
        CONSULTANT,
        "ask_input",
        at(1),
        Given(comment="Please approve 6.5 hours", customer_assignee_id=11),
    )
    assert P.refused(case, REPORTER, "grant_estimate").reason == "role"  # a member may not
    assert P.refused(case, CONSULTANT, "grant_estimate").reason == "role"  # nor staff
    assert "grant_estimate" in P.keys(case, APPROVER)
    case, outcome = P.step(case, APPROVER, "grant_estimate", at(26))
    assert outcome.field_changes == {}
    assert case.status == "open"  # back where it was asked


def test_on_hold_is_the_customers_decision_and_resumes_where_it_was():
    case, _ = P.step(P.ticket(assignee_id=1), CONSULTANT, "start", at(1))
    assert P.refused(case, REPORTER, "put_on_hold", Given(comment="pause")).reason == "role"
    assert P.refused(case, APPROVER, "put_on_hold").missing == ("comment",)
    case, _ = P.step(case, APPROVER, "put_on_hold", at(2), Given(comment="Wait for v5 of the tool"))
    step = next_step(WF, case, APPROVER, "en", at(3))
    assert (step.status, step.turn, step.active) == ("on_hold", "customer", False)
    assert {a.key for a in step.actions} == {"resume"}
    assert next_timer(WF, case) is None
    case, _ = P.step(case, APPROVER, "resume", at(100))
    assert case.status == "started"
    # staff may record both on the customer's word
    case, _ = P.step(case, CONSULTANT, "put_on_hold", at(101), Given(comment="Customer called"))
    case, _ = P.step(case, CONSULTANT, "resume", at(150))
    assert case.status == "started"


def test_a_new_case_cannot_be_put_on_hold():
    assert (
        P.refused(P.ticket(), APPROVER, "put_on_hold", Given(comment="x")).reason == "wrong_status"
    )


def test_reject_only_early_and_with_a_reason():
    case, _ = P.step(
        P.ticket(), CONSULTANT, "schedule", at(1), Given(comment="Friday", assignee_id=1)
    )
    assert P.refused(case, CONSULTANT, "reject").missing == ("comment",)
    assert P.refused(case, APPROVER, "reject", Given(comment="x")).reason == "role"
    rejected, _ = P.step(case, CONSULTANT, "reject", at(2), Given(comment="Out of contract"))
    step = next_step(WF, rejected, REPORTER, "en", at(3))
    assert (step.category, step.active, step.actions) == ("cancelled", False, ())
    started, _ = P.step(case, CONSULTANT, "start", at(2))
    assert P.refused(started, CONSULTANT, "reject", Given(comment="x")).reason == "wrong_status"


@pytest.mark.parametrize(
    ("status", "active"),
    [
        ("open", True),
        ("scheduled", True),
        ("pending_input", True),
        ("started", True),
        ("fixed", True),
        ("tested", True),
        ("on_hold", False),
        ("delivered", False),
        ("closed", False),
        ("rejected", False),
    ],
)
def test_active_and_inactive_statuses(status, active):
    step = next_step(WF, P.ticket(status=status), REPORTER, "nl", T0)
    assert step.active is active
    assert step.explanation and step.explanation != WF.text(WF.statuses[status].explain, "en")


def test_duplicates_close_with_a_prefix_and_no_requirements():
    assert WF.duplicates is not None
    assert WF.duplicates.title_prefix == "DUPLICATE: "
    case = P.ticket()  # even before anyone is assigned
    case, _ = P.step(case, CONSULTANT, WF.duplicates.transition, at(1))
    assert case.status == "closed"
    assert not next_step(WF, case, REPORTER, "en", at(2)).active
