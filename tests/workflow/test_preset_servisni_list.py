"""The service-sheet story (seed 004) walked through the engine: limited customer moves,
the PBI number, and approval after 5 quiet days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Snapshot,
    decide,
    next_step,
    next_timer,
    options,
    triggered,
)
from tests.workflow.preset_tickets import Preset

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
CUSTOMER = Actor("customer", "member", 10)
COLLEAGUE = Actor("customer", "approver", 11)
CONSULTANT = Actor("staff", "agent", 1)
P = Preset.load("servisni_list", start=T0, reporter=CUSTOMER, type="servis", priority="normal")
WF = P.wf
ALL_STATUSES = (
    "novy",
    "prirazeno",
    "realizace",
    "na_vyvoji",
    "testovani",
    "na_klientovi",
    "ke_schvaleni",
    "vraceno_klientem",
    "schvaleno",
    "hotovo",
    "zruseno",
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def sent_for_approval(type: str = "servis", when: datetime = T0) -> Snapshot:
    snap = P.ticket("realizace", type, assignee_id=1)
    snap, _ = P.step(
        snap, CONSULTANT, "send_for_approval", when, Given(comment="3 h: report fixed")
    )
    return snap


def test_the_file_keeps_the_seed_status_names():
    assert WF.slug == "servisni-list"
    assert WF.languages == ("cs", "en")
    names = [WF.text(WF.statuses[s].label, "cs") for s in ALL_STATUSES]
    assert names == [
        "Nový",
        "Přiřazeno",
        "Realizace",
        "Na vývoji",
        "Testování",
        "Na klientovi",
        "Ke schválení",
        "Vráceno klientem",
        "Schváleno",
        "Hotovo",
        "Zrušeno",
    ]
    assert set(WF.statuses) == set(ALL_STATUSES)
    assert WF.initial == "novy"


def test_assigning_a_consultant_moves_a_new_ticket_to_prirazeno():
    new = P.ticket()
    assert triggered(WF, new, "assigned") is None  # nobody assigned yet
    assigned = replace(new, assignee_id=1)
    assert triggered(WF, assigned, "assigned") == "assign"
    snap, _ = P.step(assigned, SYSTEM_ACTOR, "assign", day(0.1))
    assert snap.status == "prirazeno"
    # staff may make the move too, naming the consultant
    denied = P.refused(new, CONSULTANT, "assign")
    assert (denied.reason, denied.missing) == ("requirement", ("assignee",))
    snap, _ = P.step(new, CONSULTANT, "assign", day(0.1), Given(assignee_id=1))
    assert (snap.status, snap.assignee_id) == ("prirazeno", 1)
    assert triggered(WF, snap, "assigned") is None  # only on new tickets


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_on_a_service_ticket_the_customer_moves_only_in_two_statuses(status):
    expected = {
        "na_klientovi": {"customer_returns"},
        "ke_schvaleni": {"customer_approves", "customer_rejects"},
    }.get(status, set())
    snap = P.ticket(status, "servis", assignee_id=1)
    assert P.keys(snap, CUSTOMER) == expected
    assert P.keys(snap, COLLEAGUE) == expected  # everyone with access to the ticket


def test_customer_approve_and_return_are_refused_elsewhere():
    for status in ("realizace", "testovani", "vraceno_klientem", "schvaleno"):
        snap = P.ticket(status, "servis", assignee_id=1)
        assert P.refused(snap, CUSTOMER, "customer_approves").reason == "wrong_status"
        assert P.refused(snap, CUSTOMER, "customer_rejects", Given(comment="no")).reason == (
            "wrong_status"
        )
    # staff never press the customer's buttons; they record what the customer said
    waiting = P.ticket("ke_schvaleni", "servis", assignee_id=1)
    assert P.refused(waiting, CONSULTANT, "customer_approves").reason == "role"
    assert P.refused(waiting, CUSTOMER, "auto_approve").reason == "role"
    assert P.refused(waiting, CUSTOMER, "record_approval", Given(comment="x")).reason == "role"


def test_service_ticket_customer_returns_after_giving_information():
    snap = P.ticket("realizace", "servis", assignee_id=1)
    snap, _ = P.step(snap, CONSULTANT, "ask_customer", day(1), Given(comment="Send a screenshot"))
    step = next_step(WF, snap, CUSTOMER, "cs", day(1))
    assert (step.turn, step.label) == ("customer", "Na klientovi")
    assert [(a.key, a.target) for a in step.actions] == [("customer_returns", "Vráceno klientem")]
    # a comment on a service ticket does not move it; the customer sets the status
    assert triggered(WF, snap, "customer_commented") is None
    snap, _ = P.step(snap, CUSTOMER, "customer_returns", day(2))
    assert snap.status == "vraceno_klientem"
    assert next_step(WF, snap, CUSTOMER, "en", day(2)).turn == "supplier"


def test_service_ticket_customer_approves():
    snap = sent_for_approval()
    snap, _ = P.step(snap, CUSTOMER, "customer_approves", day(1))
    assert snap.status == "schvaleno"
    assert P.keys(snap, CUSTOMER) == set()
    snap, _ = P.step(snap, CONSULTANT, "finish", day(2))
    assert snap.status == "hotovo"
    assert not next_step(WF, snap, CUSTOMER, "cs", day(2)).active


def test_service_ticket_customer_returns_a_solution_with_a_reason():
    snap = sent_for_approval()
    denied = P.refused(snap, CUSTOMER, "customer_rejects")
    assert (denied.reason, denied.missing) == ("requirement", ("comment",))
    snap, _ = P.step(snap, CUSTOMER, "customer_rejects", day(1), Given(comment="Totals are wrong"))
    assert snap.status == "vraceno_klientem"


@pytest.mark.parametrize("type_", ["implementace", "smlouva"])
def test_other_types_the_customer_has_no_status_change_but_a_comment_counts(type_):
    snap = sent_for_approval(type_)
    assert P.keys(snap, CUSTOMER) == set()
    assert P.refused(snap, CUSTOMER, "customer_approves").reason == "ticket_type"
    assert P.refused(snap, CUSTOMER, "customer_rejects", Given(comment="x")).reason == "ticket_type"
    step = next_step(WF, snap, CUSTOMER, "en", day(1))
    assert [e.event for e in step.events] == ["customer_commented"]
    commented = replace(snap, awaiting_reply_since=day(1), last_activity_at=day(1))
    key = triggered(WF, commented, "customer_commented")
    assert key == "customer_replied"
    returned, _ = P.step(commented, SYSTEM_ACTOR, key, day(1))
    assert returned.status == "vraceno_klientem"
    # the same in Na klientovi
    asked = P.ticket("na_klientovi", type_, assignee_id=1)
    assert P.refused(asked, CUSTOMER, "customer_returns").reason == "ticket_type"
    assert triggered(WF, asked, "customer_commented") == "customer_replied"


def test_staff_record_an_approval_given_outside_the_status():
    snap = sent_for_approval("implementace")
    snap, _ = P.step(snap, SYSTEM_ACTOR, "customer_replied", day(1))
    denied = P.refused(snap, CONSULTANT, "record_approval")
    assert denied.missing == ("comment",)
    snap, _ = P.step(snap, CONSULTANT, "record_approval", day(1), Given(comment='"Approved." - J.'))
    assert snap.status == "schvaleno"


def test_na_vyvoji_requires_the_pbi_number():
    snap = P.ticket("realizace", assignee_id=1)
    denied = P.refused(snap, CONSULTANT, "to_development")
    assert (denied.reason, denied.missing) == ("requirement", ("field:pbi",))
    bad = P.refused(snap, CONSULTANT, "to_development", Given(fields={"pbi": "PBI?"}))
    assert bad.reason == "invalid"
    snap, outcome = P.step(
        snap, CONSULTANT, "to_development", day(1), Given(fields={"pbi": "4711"})
    )
    assert outcome.field_changes == {"pbi": "4711"}
    assert (snap.status, snap.fields["pbi"]) == ("na_vyvoji", "4711")
    step = next_step(WF, snap, CUSTOMER, "cs", day(1))
    assert (step.label, step.turn) == ("Na vývoji", "supplier")
    # back from development; a second hand-over already has its number
    snap, _ = P.step(snap, CONSULTANT, "to_testing", day(5))
    snap, _ = P.step(snap, CONSULTANT, "start_work", day(6))
    by_key = {o.transition.key: o for o in options(WF, snap, CONSULTANT)}
    assert by_key["to_development"].needs == ()


def test_the_approval_timer_is_due_five_days_after_the_last_activity():
    snap = sent_for_approval(when=T0)
    due = next_timer(WF, snap)
    assert due is not None
    assert (due.timer.key, due.due_at) == ("approval_deadline", day(5))
    step = next_step(WF, snap, CUSTOMER, "en", T0)
    assert step.timer is not None
    assert step.timer.due_at == day(5)
    assert step.timer.target == "Done"
    assert "{date}" in step.timer.notice
    assert "{date}" in next_step(WF, snap, CUSTOMER, "cs", T0).timer.notice
    # a staff message in between gives the customer five full days again
    answered = replace(snap, last_activity_at=day(2))
    assert next_timer(WF, answered).due_at == day(7)


def test_the_timer_approves_and_closes_the_sheet():
    """The seed: after the 5 days the ticket closes by itself and is then invoiced."""
    snap = sent_for_approval()
    due = next_timer(WF, snap)
    snap, outcome = P.step(snap, SYSTEM_ACTOR, due.timer.transition, due.due_at)
    assert outcome.transition == "auto_approve"
    assert snap.status == "hotovo"  # the seed: the task then closes by itself
    assert next_timer(WF, snap) is None


def test_the_timer_waits_while_a_customer_comment_is_unanswered():
    snap = sent_for_approval()
    # a comment on a service ticket does not move it, but nothing is approved over it
    commented = replace(snap, awaiting_reply_since=day(3), last_activity_at=day(3))
    assert triggered(WF, commented, "customer_commented") is None
    assert next_timer(WF, commented) is None
    step = next_step(WF, commented, CUSTOMER, "en", day(3))
    assert step.timer is None
    assert step.reply_pending
    # the page still knows what waits, and what it counts from once staff have answered
    assert step.held is not None
    assert (step.held.since, step.held.after) == ("last_activity", timedelta(days=5))
    assert step.held.target == "Done"
    # staff answer: five quiet days from the answer
    answered = replace(commented, awaiting_reply_since=None, last_activity_at=day(4))
    assert next_timer(WF, answered).due_at == day(9)


def test_no_timer_after_the_customer_returns_the_ticket():
    snap = sent_for_approval()
    snap, _ = P.step(snap, CUSTOMER, "customer_rejects", day(2), Given(comment="Not yet"))
    assert snap.status == "vraceno_klientem"
    assert next_timer(WF, snap) is None
    assert next_step(WF, snap, CUSTOMER, "en", day(10)).timer is None
    assert P.refused(snap, SYSTEM_ACTOR, "auto_approve").reason == "wrong_status"
    # the next round of approval starts its own five days
    snap, _ = P.step(snap, CONSULTANT, "send_for_approval", day(4), Given(comment="Totals fixed"))
    assert next_timer(WF, snap).due_at == day(9)


def test_zruseno_requires_a_reason_and_is_done_by_staff():
    snap = P.ticket("realizace", assignee_id=1)
    denied = P.refused(snap, CONSULTANT, "cancel")
    assert (denied.reason, denied.missing) == ("requirement", ("comment",))
    assert P.refused(snap, CUSTOMER, "cancel", Given(comment="Not needed")).reason == "role"
    snap, _ = P.step(
        snap, CONSULTANT, "cancel", day(1), Given(comment="Customer withdrew; nothing to bill")
    )
    step = next_step(WF, snap, CUSTOMER, "cs", day(1))
    assert (step.label, step.category, step.active, step.actions) == (
        "Zrušeno",
        "cancelled",
        False,
        (),
    )


def test_billable_work_is_not_cancelled():
    for status in ("ke_schvaleni", "schvaleno"):
        snap = P.ticket(status, assignee_id=1)
        assert P.refused(snap, CONSULTANT, "cancel", Given(comment="x")).reason == "wrong_status"


def test_duplicates_are_cancelled_with_a_reason():
    """The seed: the reason for every cancellation is given in a comment."""
    assert WF.duplicates is not None
    denied = decide(WF, P.ticket(), CONSULTANT, WF.duplicates.transition, Given(), day(0.5))
    assert isinstance(denied, Denied) and denied.missing == ("comment",)
    snap = P.move(P.ticket(), CONSULTANT, WF.duplicates.transition, day(0.5), comment="Viz SL-4.")
    assert snap.status == "zruseno"


def test_every_status_is_explained_in_both_languages():
    for status in ALL_STATUSES:
        cs = next_step(WF, P.ticket(status), CUSTOMER, "cs", T0)
        en = next_step(WF, P.ticket(status), CUSTOMER, "en", T0)
        assert cs.explanation and en.explanation and cs.explanation != en.explanation
