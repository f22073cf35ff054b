"""The assu preset (seed 001, the A.i. Servicedesk for Assu®) walked through the engine.

A customer reports a problem, Support works on it and asks a question, the customer's
reply sends it back, Support reports it "Opgelost" and the customer clicks "Sluiten"; or
clicks "Terug naar actief"; or waits for the update that carries the fix.
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

REPORTER = Actor("customer", "member", user_id=10)
COLLEAGUE = Actor("customer", "member", user_id=11)
CUSTOMER_ADMIN = Actor("customer", "org_admin", user_id=12)
AGENT = Actor("staff", "agent", user_id=1)
LEAD = Actor("staff", "lead", user_id=2)

CUSTOMER_ACTIONS = {"sluiten", "terug_naar_actief"}
OPEN_FOR_SLA = {
    "wachtend_op_ondersteuning",
    "in_behandeling",
    "actief",
    "ingepland_in_agenda",
    "in_behandeling_applicatiebeheer",
    "in_behandeling_functioneel_beheer",
    "in_behandeling_externe_partij",
}

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


P = Preset.load("assu", start=MONDAY, reporter=REPORTER, type="melding", priority="normaal")


@pytest.fixture(scope="module")
def wf():
    return P.wf


def on_release(wf, snap: Snapshot, environment: str) -> str | None:
    """What a delivery asks the workflow for a ticket whose fix the release carries (which
    releases carry it is the releases app's: tests/releases)."""
    return triggered(wf, snap, "release_deployed", environment=environment)


def test_the_supplier_s_words_are_kept(wf):
    assert wf.slug == "assu"
    assert wf.languages == ("nl", "en")
    assert wf.initial == "wachtend_op_ondersteuning"
    assert {wf.text(s.label, "nl") for s in wf.statuses.values()} == {
        "Wachtend op ondersteuning",
        "Actief",
        "In behandeling",
        "Geannuleerd",
        "Geëscaleerd",
        "Wachtend op klant",
        "Ingepland in agenda",
        "Opgelost",
        "Gesloten",
        "In behandeling Applicatiebeheer",
        "In behandeling externe partij",
        "Opgelost komende update",
        "Wachtend op update",
        "In behandeling functioneel beheer",
    }
    assert wf.text(wf.transitions["sluiten"].label, "nl") == "Sluiten"
    assert wf.text(wf.transitions["terug_naar_actief"].label, "nl") == "Terug naar actief"
    assert wf.timers == {}  # nothing closes by itself
    assert wf.fields["fix_version"].kind == "version"


def test_main_path_from_report_to_closed_by_the_customer(wf):
    t = MONDAY
    snap = P.ticket(entered_at=t, last_activity_at=t)
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert step.label == "Wachtend op ondersteuning"
    assert step.turn == "supplier"
    assert step.actions == ()

    t += timedelta(hours=1)
    snap = P.move(snap, AGENT, "in_behandeling_nemen", t)
    assert (snap.status, snap.assignee_id, snap.team) == ("in_behandeling", 1, "support")
    assert next_step(wf, snap, REPORTER, "nl", t).label == "In behandeling"

    # Support needs something from the customer: the question is the comment.
    denied = decide(wf, snap, AGENT, "vraag_aan_klant", Given(), t)
    assert isinstance(denied, Denied) and denied.reason == "requirement"
    snap = P.move(snap, AGENT, "vraag_aan_klant", t, comment="Welke polis betreft het?")
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.turn) == ("Wachtend op klant", "customer")
    assert [e.event for e in step.events] == ["customer_commented"]
    assert step.events[0].target == "In behandeling"

    # The customer's reply is enough: the system moves the ticket back to Support.
    t += timedelta(hours=3)
    assert triggered(wf, snap, "customer_commented") == "klant_antwoordt"
    snap = P.move(snap, SYSTEM_ACTOR, "klant_antwoordt", t)
    assert snap.status == "in_behandeling"
    assert snap.team == "support"

    t += timedelta(days=1)
    snap = P.move(snap, AGENT, "oplossen", t, comment="De koppeling is hersteld.")
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.turn, step.category) == ("Opgelost", "customer", "resolved")
    assert {(a.key, a.label, a.target) for a in step.actions} == {
        ("sluiten", "Sluiten", "Gesloten"),
        ("terug_naar_actief", "Terug naar actief", "Actief"),
    }
    assert step.timer is None  # no auto-close: the document has none
    assert next_timer(wf, snap) is None

    t += timedelta(days=30)  # however long the customer takes
    snap = P.move(snap, REPORTER, "sluiten", t)
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.category, step.turn) == ("Gesloten", "closed", "nobody")
    assert step.actions == () and step.events == ()
    assert next_step(wf, snap, REPORTER, "en", t).label == "Closed"


def test_customer_actions_belong_to_the_reporter_and_the_customer_admin(wf):
    snap = P.ticket("opgelost")
    for actor in (REPORTER, CUSTOMER_ADMIN):
        assert {o.transition.key for o in options(wf, snap, actor)} == CUSTOMER_ACTIONS
    # a colleague can read and comment, but the reporter (or their admin) decides
    assert options(wf, snap, COLLEAGUE) == []
    denied = decide(wf, snap, COLLEAGUE, "sluiten", Given(), MONDAY)
    assert isinstance(denied, Denied) and denied.reason == "role"


def test_a_customer_is_never_offered_nor_allowed_a_staff_transition(wf):
    for status in wf.statuses:
        snap = P.ticket(status)
        for actor in (REPORTER, COLLEAGUE, CUSTOMER_ADMIN):
            offered = {o.transition.key for o in options(wf, snap, actor)}
            assert offered <= CUSTOMER_ACTIONS, (status, offered)
            for t in wf.transitions_from(status, ""):
                if t.key in CUSTOMER_ACTIONS:
                    continue
                denied = decide(wf, snap, actor, t.key, Given(comment="graag"), MONDAY)
                assert isinstance(denied, Denied) and denied.reason == "role", (status, t.key)


def test_the_customer_waits_for_the_update_and_closes_once_it_has_arrived(wf):
    """The document: wait for the update, check it, then close; no Sluiten before."""
    for status in ("opgelost_komende_update", "wachtend_op_update"):
        snap = P.ticket(status, fields={"fix_version": "7.4"})
        step = next_step(wf, snap, REPORTER, "nl", MONDAY)
        assert step.actions == ()
        assert step.turn == "nobody"
        denied = decide(wf, snap, REPORTER, "sluiten", Given(), MONDAY)
        assert isinstance(denied, Denied) and denied.reason == "wrong_status"
        arrived = P.move(snap, SYSTEM_ACTOR, "update_beschikbaar", MONDAY)
        assert arrived.status == "opgelost"
        assert P.move(arrived, REPORTER, "sluiten", MONDAY).status == "gesloten"


def test_resolved_is_the_reporters_turn_not_a_colleagues(wf):
    snap = P.ticket("opgelost")
    mine = next_step(wf, snap, REPORTER, "nl", MONDAY)
    theirs = next_step(wf, snap, COLLEAGUE, "nl", MONDAY)
    assert mine.viewer_turn and {a.key for a in mine.actions} >= {"sluiten"}
    assert not theirs.viewer_turn and theirs.actions == ()
    assert next_step(wf, snap, CUSTOMER_ADMIN, "nl", MONDAY).viewer_turn


def test_back_to_active_needs_a_comment_and_starts_a_new_cycle(wf):
    t = MONDAY
    snap = P.ticket("opgelost", assignee_id=AGENT.user_id, team="applicatiebeheer")
    denied = decide(wf, snap, REPORTER, "terug_naar_actief", Given(), t)
    assert isinstance(denied, Denied)
    assert (denied.reason, denied.missing) == ("requirement", ("comment",))

    action = next(
        a for a in next_step(wf, snap, REPORTER, "nl", t).actions if a.key == "terug_naar_actief"
    )
    assert action.needs == ("comment",)
    assert "nieuw ticket" in action.prompt  # reopening is not for new problems

    t += timedelta(days=2)
    snap = P.move(snap, REPORTER, "terug_naar_actief", t, comment="Het totaal klopt nog niet.")
    assert (snap.status, snap.cycle, snap.team) == ("actief", 2, "support")
    assert snap.assignee_id == AGENT.user_id  # the same person picks it up again
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.turn) == ("Actief", "supplier")
    assert step.actions == ()

    # the second cycle ends like the first: Opgelost, then the customer closes
    snap = P.move(snap, AGENT, "in_behandeling_nemen", t)
    snap = P.move(snap, AGENT, "oplossen", t, comment="Afronding aangepast.")
    snap = P.move(snap, REPORTER, "sluiten", t)
    assert (snap.status, snap.cycle) == ("gesloten", 2)
    # Gesloten is final: no way back; a new problem is a new ticket
    assert options(wf, snap, REPORTER) == []
    assert options(wf, snap, AGENT) == []


def test_solved_in_the_coming_update_waits_for_the_release_in_production(wf):
    t = MONDAY
    snap = P.move(P.ticket("wachtend_op_ondersteuning"), AGENT, "in_behandeling_nemen", t)
    snap = P.move(snap, AGENT, "naar_applicatiebeheer", t)
    assert (snap.status, snap.team, snap.assignee_id) == (
        "in_behandeling_applicatiebeheer",
        "applicatiebeheer",
        None,
    )
    denied = decide(
        wf, snap, AGENT, "oplossen_komende_update", Given(comment="Fout in de premieberekening."), t
    )
    assert isinstance(denied, Denied)
    assert (denied.reason, denied.missing) == ("requirement", ("field:fix_version",))
    bad = decide(
        wf,
        snap,
        AGENT,
        "oplossen_komende_update",
        Given(comment="x", fields={"fix_version": "7 punt 4"}),
        t,
    )
    assert isinstance(bad, Denied) and bad.reason == "invalid"

    snap = P.move(
        snap,
        AGENT,
        "oplossen_komende_update",
        t,
        comment="Fout in de premieberekening.",
        fields={"fix_version": "7.4.1"},
    )
    assert snap.status == "opgelost_komende_update"
    assert snap.fields["fix_version"] == "7.4.1"
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert step.label == "Opgelost komende update"
    assert [(e.event, e.environment, e.target) for e in step.events] == [
        ("release_published", None, "Wachtend op update"),
        ("release_deployed", "PROD", "Opgelost"),
    ]
    # the update being out moves it to waiting for the update
    assert triggered(wf, snap, "release_published") == "update_uitgebracht"
    # and only production counts
    assert on_release(wf, snap, "TEST") is None
    assert on_release(wf, snap, "PROD") == "update_beschikbaar"

    t += timedelta(weeks=6)
    snap = P.move(snap, SYSTEM_ACTOR, "update_beschikbaar", t)
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.turn) == ("Opgelost", "customer")  # please check, then close
    assert {a.key for a in step.actions} == CUSTOMER_ACTIONS
    assert P.move(snap, REPORTER, "sluiten", t).status == "gesloten"


def test_waiting_for_update_moves_when_the_customer_gets_that_version(wf):
    t = MONDAY
    snap = P.ticket("in_behandeling")
    snap = P.move(snap, AGENT, "wachten_op_update", t, fields={"fix_version": "7.3.5"})
    assert next_step(wf, snap, REPORTER, "nl", t).label == "Wachtend op update"
    assert on_release(wf, snap, "TEST") is None
    assert triggered(wf, snap, "release_published") is None  # the update is already out
    assert on_release(wf, snap, "PROD") == "update_beschikbaar"
    # staff can make the same move by hand
    assert P.move(snap, AGENT, "update_beschikbaar", t).status == "opgelost"


def test_an_sla_breach_escalates_open_tickets(wf):
    t = MONDAY
    for status in OPEN_FOR_SLA:
        snap = P.ticket(status)
        assert triggered(wf, snap, "sla_breached") == "escaleren", status
        assert "sla_breached" in {e.event for e in next_step(wf, snap, REPORTER, "nl", t).events}
    for status in set(wf.statuses) - OPEN_FOR_SLA:
        assert triggered(wf, P.ticket(status), "sla_breached") is None, status

    snap = P.move(P.ticket("in_behandeling", assignee_id=1), SYSTEM_ACTOR, "escaleren", t)
    step = next_step(wf, snap, REPORTER, "nl", t)
    assert (step.label, step.turn) == ("Geëscaleerd", "supplier")
    assert "escalated" in step.flags
    # a lead may escalate by hand, an agent may not
    denied = decide(wf, P.ticket("in_behandeling"), AGENT, "escaleren", Given(), t)
    assert isinstance(denied, Denied) and denied.reason == "role"
    assert P.move(P.ticket("actief"), LEAD, "escaleren", t).status == "geescaleerd"
    # picked up again, the flag stays as a record of the overrun
    snap = P.move(snap, AGENT, "in_behandeling_nemen", t)
    assert snap.status == "in_behandeling" and "escalated" in snap.flags


def test_cancel_needs_a_comment_and_is_support_s_decision(wf):
    snap = P.ticket("in_behandeling")
    denied = decide(wf, snap, AGENT, "annuleren", Given(), MONDAY)
    assert isinstance(denied, Denied)
    assert (denied.reason, denied.missing) == ("requirement", ("comment",))
    denied = decide(wf, snap, REPORTER, "annuleren", Given(comment="Niet meer nodig"), MONDAY)
    assert isinstance(denied, Denied) and denied.reason == "role"
    snap = P.move(snap, AGENT, "annuleren", MONDAY, comment="Met de klant afgesproken.")
    step = next_step(wf, snap, REPORTER, "nl", MONDAY)
    assert (step.label, step.category) == ("Geannuleerd", "cancelled")


def test_a_duplicate_is_cancelled_with_its_reason(wf):
    """Geannuleerd tells the customer the reason is in the comments, so it must be."""
    assert wf.duplicates is not None and wf.duplicates.transition == "duplicaat"
    snap = P.ticket("wachtend_op_ondersteuning")
    denied = decide(wf, snap, AGENT, "duplicaat", Given(), MONDAY)
    assert isinstance(denied, Denied) and denied.missing == ("comment",)
    outcome = decide(wf, snap, AGENT, "duplicaat", Given(comment="Zie AI-12."), MONDAY)
    assert isinstance(outcome, Outcome) and outcome.status == "geannuleerd"


def test_wishes_go_to_functional_management(wf):
    melding = P.ticket("in_behandeling")
    denied = decide(wf, melding, AGENT, "naar_functioneel_beheer", Given(), MONDAY)
    assert isinstance(denied, Denied) and denied.reason == "ticket_type"
    wens = P.ticket("in_behandeling", type="wens")
    snap = P.move(wens, AGENT, "naar_functioneel_beheer", MONDAY)
    assert (snap.status, snap.team) == ("in_behandeling_functioneel_beheer", "functioneel_beheer")
    step = next_step(wf, snap, REPORTER, "en", MONDAY)
    assert step.label == "With Functional Management"


def test_the_external_party_and_the_calendar(wf):
    snap = P.ticket("in_behandeling")
    assert decide(wf, snap, AGENT, "naar_externe_partij", Given(), MONDAY).reason == "requirement"
    snap = P.move(snap, AGENT, "naar_externe_partij", MONDAY, comment="Vraag bij Solera.")
    step = next_step(wf, snap, REPORTER, "nl", MONDAY)
    assert (step.label, step.turn) == ("In behandeling externe partij", "third_party")
    snap = P.move(snap, AGENT, "in_behandeling_nemen", MONDAY)
    snap = P.move(snap, AGENT, "inplannen", MONDAY, comment="Ingepland voor donderdag.")
    assert next_step(wf, snap, REPORTER, "nl", MONDAY).label == "Ingepland in agenda"
