"""Decisions of the engine on the plain default workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casedesk.common.codes import CODES
from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Outcome,
    Snapshot,
    after,
    decide,
    field_problem,
    load_file,
    next_step,
    next_timer,
    options,
    released,
    triggered,
)
from casedesk.workflow.loader import PRESETS

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WF = load_file(PRESETS / "default.yaml")
REPORTER = Actor("customer", "member", 10)
COLLEAGUE = Actor("customer", "member", 11)
ORG_ADMIN = Actor("customer", "org_admin", 12)
AGENT = Actor("staff", "agent", 1)


def snap(status: str = "new", **kw) -> Snapshot:
    base = dict(
        status=status,
        type="incident",
        priority="normal",
        entered_at=T0,
        last_activity_at=T0,
        reporter_id=10,
    )
    base.update(kw)
    return Snapshot(**base)


def keys(opts) -> set[str]:
    return {o.transition.key for o in opts}


def test_customer_options_depend_on_status_and_relation():
    assert keys(options(WF, snap("new"), REPORTER)) == {"cancel"}
    assert (
        keys(options(WF, snap("new"), COLLEAGUE)) == set()
    )  # only the reporter or org admin cancel
    assert keys(options(WF, snap("new"), ORG_ADMIN)) == {"cancel"}
    assert keys(options(WF, snap("resolved"), COLLEAGUE)) == {"confirm", "reopen"}
    assert keys(options(WF, snap("closed"), REPORTER)) == set()


def test_staff_options_show_what_each_requires():
    by_key = {o.transition.key: o for o in options(WF, snap("new"), AGENT)}
    assert by_key["start"].needs == ("assignee",)
    assert by_key["resolve"].needs == ("comment",)
    assert "customer_answered" not in by_key  # not from new
    assigned = {o.transition.key: o for o in options(WF, snap("new", assignee_id=1), AGENT)}
    assert assigned["start"].needs == ()


@pytest.mark.parametrize(
    ("actor", "status", "transition", "code"),
    [
        (REPORTER, "new", "resolve", "role"),
        (REPORTER, "waiting_customer", "customer_answered", "role"),
        (REPORTER, "new", "auto_close", "role"),
        (REPORTER, "new", "confirm", "wrong_status"),
        (AGENT, "closed", "resolve", "wrong_status"),
        (AGENT, "new", "fly", "unknown_transition"),
        (AGENT, "new", "resolve", "requirement"),
        (AGENT, "new", "start", "requirement"),
        (SYSTEM_ACTOR, "resolved", "reopen", "role"),
    ],
)
def test_refusals_give_a_reason(actor, status, transition, code):
    result = decide(WF, snap(status), actor, transition, Given(), T0)
    assert isinstance(result, Denied)
    assert result.reason == code
    assert result.code in CODES and set(result.params) <= set(CODES[result.code])


def test_requirements_are_met_by_input():
    result = decide(WF, snap("new"), AGENT, "start", Given(assignee_id=3), T0)
    assert isinstance(result, Outcome)
    assert (result.status, result.place_changed) == ("open", True)
    missing = decide(WF, snap("open"), AGENT, "resolve", Given(comment="   "), T0)
    assert isinstance(missing, Denied) and missing.missing == ("comment",)


def test_reopen_starts_a_new_cycle_and_records_previous():
    before = snap("resolved", previous_status="open")
    outcome = decide(WF, before, REPORTER, "reopen", Given(comment="Still broken"), T0)
    assert isinstance(outcome, Outcome)
    assert outcome.cycle == 2
    nxt = after(before, outcome, actor=REPORTER, now=T0 + timedelta(hours=1))
    assert (nxt.status, nxt.previous_status, nxt.entered_at) == (
        "open",
        "resolved",
        T0 + timedelta(hours=1),
    )


def test_quiet_close_timer_counts_from_last_activity_and_waits_for_an_unanswered_reply():
    resolved = snap("resolved", entered_at=T0, last_activity_at=T0 + timedelta(days=2))
    due = next_timer(WF, resolved)
    assert due is not None and due.timer.key == "quiet_close"
    assert due.due_at == T0 + timedelta(days=9)
    assert next_timer(WF, snap("resolved", awaiting_reply_since=T0)) is None
    assert next_timer(WF, snap("open")) is None


def test_customer_comment_event_moves_waiting_ticket_back():
    assert triggered(WF, snap("waiting_customer"), "customer_commented") == "customer_answered"
    assert triggered(WF, snap("open"), "customer_commented") is None
    assert triggered(WF, snap("waiting_customer"), "staff_commented") is None


def test_next_step_for_customer_speaks_their_language():
    view = next_step(WF, snap("resolved"), REPORTER, "da", T0)
    assert view.label == "Løst"
    assert view.turn == "customer"
    assert [a.label for a in view.actions] == [
        "Bekræft at den er løst",
        "Den er ikke løst",
        "Annuller",
    ]
    reopen = next(a for a in view.actions if a.key == "reopen")
    assert reopen.needs == ("comment",) and reopen.prompt == "Hvad er stadig galt?"
    assert view.timer is not None and view.timer.due_at == T0 + timedelta(days=7)
    assert "{date}" in view.timer.notice and view.timer.target == "Lukket"
    waiting = next_step(WF, snap("waiting_customer"), REPORTER, "sv", T0)
    assert waiting.events and waiting.events[0].event == "customer_commented"
    assert next_step(WF, snap("new"), REPORTER, "xx", T0).label == "Waiting for support"


def test_field_values_are_checked_by_kind():
    wf = load_file(PRESETS / "default.yaml")
    assert field_problem(wf, "nope", "1") == Denied("invalid", "field.unknown", {"field": "nope"})


def test_release_versions_compare_numerically():
    assert released("2.4", "2.10")
    assert released("2.4", "2.4")
    assert not released("2.10", "2.9")
    assert not released("", "9.9")
    assert not released(None, "1")
    assert released("2024.1", "2024.1.3")


STAYS = """\
workflow: stays
version: 1
name: {en: Stays}
languages: [en]
types: {task: {label: {en: Task}}}
priorities: {normal: {label: {en: Normal}}}
fields:
  ref: {label: {en: Reference}}
  note: {label: {en: Customer note}, customer_editable: true}
statuses:
  open: {initial: true, category: open, turn: supplier, label: {en: Open}, explain: {en: x}}
  working:
    category: open
    turn: supplier
    requires: [assignee]
    label: {en: Working}
    explain: {en: x}
  done: {category: closed, turn: nobody, label: {en: Done}, explain: {en: x}}
transitions:
  work: {label: {en: Work}, from: [open], to: working, by: [staff]}
  finish: {label: {en: Finish}, from: [working], to: done, by: [staff, customer]}
"""


def test_a_status_can_require_an_assignee_for_as_long_as_the_ticket_is_there():
    from casedesk.workflow import load_text, unassign_problem

    wf = load_text(STAYS)
    opened = snap("open", type="task")
    (work,) = [o for o in options(wf, opened, AGENT) if o.transition.key == "work"]
    assert work.needs == ("assignee",)  # the target status's requirement is asked for
    refused = decide(wf, opened, AGENT, "work", Given(), T0)
    assert isinstance(refused, Denied) and refused.missing == ("assignee",)
    assert isinstance(decide(wf, opened, AGENT, "work", Given(assignee_id=1), T0), Outcome)
    working = snap("working", type="task", assignee_id=1)
    assert unassign_problem(wf, working, "assignee") == Denied(
        "invalid", "ticket.assignee.required_by_status", {"status": "working"}
    )
    assert unassign_problem(wf, working, "customer_assignee") is None
    assert unassign_problem(wf, opened, "assignee") is None


def test_customers_set_only_fields_marked_customer_editable():
    from casedesk.workflow import load_text

    wf = load_text(STAYS)
    working = snap("working", type="task", assignee_id=1)
    refused = decide(wf, working, REPORTER, "finish", Given(fields={"ref": "X1"}), T0)
    assert isinstance(refused, Denied) and refused.code == "field.not_for_customers"
    assert refused.params == {"field": "ref"}
    assert isinstance(
        decide(wf, working, REPORTER, "finish", Given(fields={"note": "ok"}), T0), Outcome
    )
    assert isinstance(
        decide(wf, working, AGENT, "finish", Given(fields={"ref": "X1"}), T0), Outcome
    )
    assert field_problem(wf, "ref", "X1", by_customer=True) == Denied(
        "invalid", "field.not_for_customers", {"field": "ref"}
    )


def test_the_status_guide_is_generated_from_the_workflow():
    from casedesk.workflow.guide import status_guide

    guide = status_guide(WF, "nl")
    assert guide.name == "Standaard servicedesk" and guide.language == "nl"
    assert [s.key for s in guide.statuses] == list(WF.statuses)
    resolved = next(s for s in guide.statuses if s.key == "resolved")
    assert resolved.label == "Opgelost" and resolved.turn == "customer"
    assert {a.key for a in resolved.customer_actions} == {"confirm", "reopen", "cancel"}
    reopen = next(a for a in resolved.customer_actions if a.key == "reopen")
    assert reopen.needs == ("comment",) and reopen.target == "In behandeling"
    (rule,) = resolved.automatic
    assert (rule.after, rule.since, rule.target) == ("7d", "last_activity", "Gesloten")
    assert "{date}" in rule.notice
    waiting = next(s for s in guide.statuses if s.key == "waiting_customer")
    assert [r.event for r in waiting.automatic] == ["customer_commented"]
    assert "system" not in {w for s in guide.statuses for a in s.staff_actions for w in a.who}
    assert status_guide(WF, "fr").language == "en"


def test_the_guide_says_in_which_sub_status_a_rule_applies():
    from casedesk.workflow.guide import status_guide

    wf = load_file(PRESETS / "tms.yaml")
    working = next(s for s in status_guide(wf, "da").statuses if s.key == "under_behandling")
    timers = [r for r in working.automatic if r.after]
    assert timers and all(len(r.at) == 1 for r in timers)
    assert all(a.at for a in working.customer_actions)  # every customer verdict has its place
