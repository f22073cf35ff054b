"""The sda preset (seed 003, Service Desk Autonik) walked through the engine.

A customer logs in and registers a case; support works on it, may ask the customer, and
marks it "Löst"; the customer approves and the case ends as "Lukket" (Swedish "Stängd").
The customer may also mark the case solved or cancel it, and a resolved case can be reopened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Outcome,
    Snapshot,
    decide,
    next_step,
    next_timer,
    options,
    triggered,
)
from tests.workflow.preset_tickets import Preset

REPORTER = Actor("customer", "member", user_id=20)
COLLEAGUE = Actor("customer", "member", user_id=21)  # same organisation, sees the case
CUSTOMER_ADMIN = Actor("customer", "org_admin", user_id=22)
CUSTOMERS = (REPORTER, COLLEAGUE, CUSTOMER_ADMIN)
AGENT = Actor("staff", "agent", user_id=1)

CUSTOMER_ACTIONS = {"mark_solved", "cancel", "approve", "reopen"}
WORKING = ("waiting_for_support", "in_progress", "waiting_for_customer")

TUESDAY = datetime(2025, 5, 6, 8, 30, tzinfo=UTC)


P = Preset.load("sda", start=TUESDAY, reporter=REPORTER, type="incident", priority="normal")


@pytest.fixture(scope="module")
def wf():
    return P.wf


def test_the_portal_s_words_are_kept(wf):
    assert wf.slug == "sda"
    assert wf.languages == ("sv", "da", "en")
    assert wf.initial == "waiting_for_support"
    sv = {k: wf.text(s.label, "sv") for k, s in wf.statuses.items()}
    assert sv["waiting_for_support"] == "Väntar på support"
    assert sv["in_progress"] == "Pågående"
    assert sv["resolved"] == "Löst"
    assert wf.text(wf.statuses["closed"].label, "da") == "Lukket"
    assert sv["closed"] == "Stängd"
    assert {s.category for s in wf.statuses.values()} >= {"waiting", "cancelled"}
    assert wf.timers == {}  # a quiet "Löst" does not close itself


def test_main_path_from_registration_to_lukket(wf):
    t = TUESDAY
    snap = Snapshot(
        status=wf.initial,
        type=wf.default_type,
        priority=wf.default_priority,
        entered_at=t,
        last_activity_at=t,
        reporter_id=REPORTER.user_id,
    )
    step = next_step(wf, snap, REPORTER, "sv", t)
    assert (step.label, step.turn) == ("Väntar på support", "supplier")
    assert next_step(wf, snap, REPORTER, "da", t).label == "Venter på support"
    # while support works, the customer may still solve or cancel the case themselves
    assert P.labels(snap, REPORTER, "sv") == {
        "mark_solved": "Markera som löst",
        "cancel": "Avbryt ärendet",
    }

    t += timedelta(minutes=20)
    snap = P.move(snap, AGENT, "start", t)
    assert (snap.status, snap.assignee_id) == ("in_progress", AGENT.user_id)
    assert next_step(wf, snap, REPORTER, "sv", t).label == "Pågående"

    snap = P.move(snap, AGENT, "ask_customer", t, comment="Vilken PLC-version kör ni?")
    step = next_step(wf, snap, REPORTER, "da", t)
    assert (step.label, step.turn) == ("Venter på kunde", "customer")
    assert [(e.event, e.target) for e in step.events] == [
        ("customer_commented", "Venter på support")
    ]

    # the customer's comment puts the case back in the support queue
    t += timedelta(hours=2)
    assert triggered(wf, snap, "customer_commented") == "customer_replied"
    snap = P.move(snap, SYSTEM_ACTOR, "customer_replied", t)
    assert snap.status == "waiting_for_support"
    assert triggered(wf, snap, "customer_commented") is None  # only while waiting for them

    snap = P.move(snap, AGENT, "start", t)
    snap = P.move(snap, AGENT, "resolve", t, comment="Firmware uppdaterad.")
    step = next_step(wf, snap, REPORTER, "sv", t)
    assert (step.label, step.turn, step.category) == ("Löst", "customer", "resolved")
    assert P.labels(snap, REPORTER, "sv") == {
        "approve": "Godkänn och stäng",
        "reopen": "Det är inte löst",
    }
    assert P.labels(snap, REPORTER, "da") == {
        "approve": "Godkend og luk",
        "reopen": "Det er ikke løst",
    }
    assert step.timer is None and next_timer(wf, snap) is None

    t += timedelta(days=21)
    snap = P.move(snap, REPORTER, "approve", t)
    assert snap.status == "closed"
    assert next_step(wf, snap, REPORTER, "da", t).label == "Lukket"
    step = next_step(wf, snap, REPORTER, "sv", t)
    assert (step.label, step.category, step.actions) == ("Stängd", "closed", ())


def test_any_member_of_the_organisation_may_solve_the_case_themselves(wf):
    for status in WORKING:
        for actor in CUSTOMERS:
            snap = P.move(P.ticket(status), actor, "mark_solved", TUESDAY)
            assert snap.status == "resolved"
    snap = P.move(P.ticket("in_progress"), COLLEAGUE, "mark_solved", TUESDAY)
    assert P.move(snap, REPORTER, "approve", TUESDAY).status == "closed"


def test_cancel_needs_a_reason(wf):
    for actor in (REPORTER, AGENT):
        denied = decide(wf, P.ticket("in_progress"), actor, "cancel", Given(), TUESDAY)
        assert isinstance(denied, Denied)
        assert (denied.reason, denied.missing) == ("requirement", ("comment",))
    action = next(
        a
        for a in next_step(wf, P.ticket("in_progress"), REPORTER, "sv", TUESDAY).actions
        if a.key == "cancel"
    )
    assert (action.needs, action.prompt) == (("comment",), "Varför behövs ärendet inte längre?")
    snap = P.move(
        P.ticket("waiting_for_customer"), REPORTER, "cancel", TUESDAY, comment="Löst lokalt."
    )
    step = next_step(wf, snap, REPORTER, "da", TUESDAY)
    assert (step.label, step.category, step.actions) == ("Annulleret", "cancelled", ())
    # a resolved case is approved or reopened, not cancelled
    denied = decide(wf, P.ticket("resolved"), REPORTER, "cancel", Given(comment="x"), TUESDAY)
    assert isinstance(denied, Denied) and denied.reason == "wrong_status"


def test_reopen_needs_a_comment_and_starts_a_new_cycle(wf):
    snap = P.ticket("resolved", assignee_id=AGENT.user_id)
    denied = decide(wf, snap, REPORTER, "reopen", Given(), TUESDAY)
    assert isinstance(denied, Denied) and denied.reason == "requirement"
    t = TUESDAY + timedelta(days=1)
    snap = P.move(snap, REPORTER, "reopen", t, comment="Larmet kommer tillbaka.")
    assert (snap.status, snap.cycle) == ("waiting_for_support", 2)
    assert next_step(wf, snap, REPORTER, "sv", t).label == "Väntar på support"
    snap = P.move(snap, AGENT, "start", t)
    snap = P.move(snap, AGENT, "resolve", t, comment="Ny sensor monterad.")
    snap = P.move(snap, REPORTER, "approve", t)
    assert (snap.status, snap.cycle) == ("closed", 2)
    assert options(wf, snap, REPORTER) == [] and options(wf, snap, AGENT) == []


def test_a_customer_is_never_offered_nor_allowed_a_staff_transition(wf):
    for status in wf.statuses:
        snap = P.ticket(status)
        for actor in CUSTOMERS:
            offered = {o.transition.key for o in options(wf, snap, actor)}
            assert offered <= CUSTOMER_ACTIONS, (status, offered)
            for t in wf.transitions_from(status, ""):
                if t.key in CUSTOMER_ACTIONS:
                    continue
                given = Given(comment="tack", fields={"fix_version": "4.2"})
                denied = decide(wf, snap, actor, t.key, given, TUESDAY)
                assert isinstance(denied, Denied) and denied.reason == "role", (status, t.key)


def test_staff_close_with_the_customer_s_agreement_or_for_an_update(wf):
    denied = decide(wf, P.ticket("resolved"), AGENT, "close", Given(), TUESDAY)
    assert isinstance(denied, Denied) and denied.reason == "requirement"
    snap = P.move(P.ticket("resolved"), AGENT, "close", TUESDAY, comment="Godkänt per telefon.")
    assert snap.status == "closed"

    denied = decide(
        wf, P.ticket("in_progress"), AGENT, "close_for_update", Given(comment="Aftalt."), TUESDAY
    )
    assert isinstance(denied, Denied) and denied.missing == ("field:fix_version",)
    snap = P.move(
        P.ticket("in_progress"),
        AGENT,
        "close_for_update",
        TUESDAY,
        comment="Aftalt med kunden.",
        fields={"fix_version": "4.2"},
    )
    assert (snap.status, snap.fields["fix_version"]) == ("closed", "4.2")


def test_a_duplicate_is_cancelled_with_its_reason(wf):
    assert wf.duplicates is not None and wf.duplicates.transition == "close_duplicate"
    for status in (*WORKING, "resolved"):
        denied = decide(wf, P.ticket(status), AGENT, "close_duplicate", Given(), TUESDAY)
        assert isinstance(denied, Denied) and denied.missing == ("comment",)
        given = Given(comment="Samme fejl som SDA-3.")
        outcome = decide(wf, P.ticket(status), AGENT, "close_duplicate", given, TUESDAY)
        assert isinstance(outcome, Outcome) and outcome.status == "cancelled"


def test_every_type_and_priority_speaks_all_three_languages(wf):
    assert set(wf.types) == {"incident", "service_request", "question"}
    for lang in wf.languages:
        for item in (*wf.types.values(), *wf.priorities.values()):
            assert item.label[lang].strip()
    assert [wf.text(p.label, "sv") for p in wf.priorities.values()] == [
        "Låg",
        "Normal",
        "Hög",
        "Kritisk",
    ]
    for typ in wf.types:
        snap = P.ticket("resolved", type=typ)
        assert set(P.labels(snap, REPORTER, "en")) == {"approve", "reopen"}
