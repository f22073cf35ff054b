"""The TIME m SYSTEM preset (seed 000) walked through the pure engine, with a hand-held clock.

Every test passes `now` explicitly; nothing reads the real clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

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
from casedesk.workflow.spec import CUSTOMER_ROLES, expand_roles
from tests.workflow.preset_tickets import Preset

T0 = datetime(2020, 11, 2, 9, 0)
DAY = timedelta(days=1)

AGENT = Actor("staff", "agent", user_id=7)
MEMBER = Actor("customer", "member", user_id=100)  # the reporter
COLLEAGUE = Actor("customer", "member", user_id=101)  # same organisation, not the reporter
APPROVER = Actor("customer", "approver", user_id=102)
ORG_ADMIN = Actor("customer", "org_admin", user_id=103)
CUSTOMERS = (MEMBER, COLLEAGUE, APPROVER, ORG_ADMIN)
P = Preset.load("tms", start=T0, reporter=MEMBER, type="fejl", priority="normal")
WF = P.wf

UB = "under_behandling"


def customer_comment(snap: Snapshot, now: datetime) -> Snapshot:
    """What the bridge records when a customer writes a public comment."""
    return replace(snap, last_activity_at=now, awaiting_reply_since=now)


def staff_comment(snap: Snapshot, now: datetime) -> Snapshot:
    return replace(snap, last_activity_at=now, awaiting_reply_since=None)


def place(snap: Snapshot) -> tuple[str, str]:
    return snap.status, snap.sub_status


def received(now: datetime = T0 + timedelta(hours=1), type_: str = "fejl") -> Snapshot:
    return P.move(P.ticket(type=type_), AGENT, "receive", now, assignee_id=AGENT.user_id)


def in_place(sub: str, now: datetime, **kw) -> Snapshot:
    return replace(
        received(),
        status=UB,
        sub_status=sub,
        entered_at=now,
        last_activity_at=now,
        **kw,
    )


# -- the file ----------------------------------------------------------------------------


def test_preset_keeps_the_documents_names_danish_first():
    assert WF.slug == "tms"
    assert WF.languages == ("da", "en")
    assert [WF.statuses[k].label["da"] for k in WF.statuses] == [
        "Ny (Ubehandlet)",
        "Modtaget",
        "Under behandling",
        "Lukket",
        "Genåbnet",
    ]
    labels = {s.label["da"] for s in WF.sub_statuses.values()}
    assert len(labels) == 22  # every level-2 status of the document, once
    assert {
        "Afventer mere info fra kunde",
        "Opdateret i TEST. Afventer kunde accept",
        "Opdateret i PROD, Accepteret af kunde",
        "Sendt til TE Sverige",
        "Ændringsønske Tilbud sent",
        "Standby",
        "Normal",
    } <= labels
    assert WF.initial == "ny"
    assert WF.priority_order == ("lav", "normal", "hoj", "kritisk")
    assert WF.duplicates is not None and WF.duplicates.transition == "close_duplicate"


def test_whose_turn_follows_the_second_level():
    assert WF.turn_at(UB, "normal") == "supplier"
    for sub in (
        "afventer_adgang_til_kunde",
        "afventer_mere_info_fra_kunde",
        "afventer_godkendelse_fra_kunde",
        "opdateret_i_test_afventer_accept",
        "opdateret_i_prod_afventer_accept",
        "aendringsoenske_tilbud_sendt",
    ):
        assert WF.turn_at(UB, sub) == "customer", sub
    assert WF.turn_at(UB, "sendt_til_te_sverige") == "third_party"
    assert WF.turn_at(UB, "standby") == "customer"  # they say when it goes on
    assert WF.waits_for_at(UB, "aendringsoenske_tilbud_sendt") == {"approver"}
    assert WF.active_at(UB, "standby") is False
    assert WF.active_at(UB, "afventer_udviklingen") is True


# -- reception and routing -----------------------------------------------------------------


def test_a_new_case_is_received_only_with_an_assignee():
    snap = P.ticket()
    now = T0 + timedelta(hours=1)
    refused = decide(WF, snap, AGENT, "receive", Given(), now)
    assert isinstance(refused, Denied)
    assert refused.reason == "requirement" and refused.missing == ("assignee",)

    snap = P.move(snap, AGENT, "receive", now, assignee_id=7)
    assert place(snap) == ("modtaget", "normal")
    assert snap.team == "support" and snap.assignee_id == 7
    assert WF.place_label(*place(snap), "da") == "Modtaget, Normal"


def test_handovers_route_to_the_team_that_takes_over():
    snap = received()
    now = T0 + 2 * DAY
    expected = {
        "to_consultants": ("afventer_konsulent", "consultants"),
        "to_operations": ("afventer_tms_drift", "operations"),
        "to_development": ("afventer_udviklingen", "development"),
        "to_te_sweden": ("sendt_til_te_sverige", "consultants"),
        "register_change_request": ("aendringsoenske_fra_kunde", "development"),
        "to_support": ("afventer_supporter", "support"),
    }
    for key, (sub, team) in expected.items():
        routed = P.move(snap, AGENT, key, now)
        assert place(routed) == (UB, sub), key
        assert routed.team == team, key

    working = P.move(snap, AGENT, "start_work", now)
    assert place(working) == (UB, "normal")
    dev = P.move(working, AGENT, "to_development", now + DAY)
    back = P.move(dev, AGENT, "to_support", now + 2 * DAY)
    assert back.team == "support" and back.sub_status == "afventer_supporter"


def test_staff_pick_any_working_sub_status_with_a_comment():
    snap = P.move(received(), AGENT, "start_work", T0 + DAY)
    opt = next(o for o in options(WF, snap, AGENT) if o.transition.key == "change_sub_status")
    assert "standby" in opt.sub_choices and "afventer_udviklingen" in opt.sub_choices
    assert opt.needs == ("comment",)
    picked = P.move(
        snap,
        AGENT,
        "change_sub_status",
        T0 + 2 * DAY,
        comment="Vi afventer svar fra udviklingen.",
        sub_status="afventer_udviklingen",
    )
    assert place(picked) == (UB, "afventer_udviklingen")
    wrong = decide(
        WF, snap, AGENT, "change_sub_status", Given(comment="x", sub_status="godkendt_af_kunde"), T0
    )
    assert isinstance(wrong, Denied) and wrong.reason == "invalid"


def test_standby_needs_the_agreement_in_writing():
    snap = P.move(received(), AGENT, "start_work", T0 + DAY)
    refused = decide(WF, snap, AGENT, "standby", Given(), T0 + 2 * DAY)
    assert isinstance(refused, Denied) and refused.missing == ("comment",)
    held = P.move(snap, AGENT, "standby", T0 + 2 * DAY, comment="Aftalt med kunden i telefonen.")
    step = next_step(WF, held, MEMBER, "da", T0 + 3 * DAY)
    assert step.label == "Under behandling, Standby"
    assert step.turn == "customer" and step.viewer_turn and step.active is False
    assert step.actions == () and step.timer is None
    # the customer restarts it by writing on the case
    assert [e.event for e in step.events] == ["customer_commented"]
    assert triggered(WF, held, "customer_commented") == "resume_standby"
    back = P.move(held, SYSTEM_ACTOR, "resume_standby", T0 + 30 * DAY)
    assert (place(back), back.team) == ((UB, "afventer_supporter"), "support")
    resumed = P.move(held, AGENT, "start_work", T0 + 30 * DAY)
    assert place(resumed) == (UB, "normal")


# -- waiting for the customer ------------------------------------------------------------


def test_the_customers_answer_sends_the_case_back_to_a_supporter():
    snap = P.move(received(), AGENT, "start_work", T0 + DAY)
    now = T0 + 2 * DAY
    asked = P.move(snap, AGENT, "ask_for_info", now, comment="Hvilken version kører I?")

    step = next_step(WF, asked, MEMBER, "da", now)
    assert step.label == "Under behandling, Afventer mere info fra kunde"
    assert step.turn == "customer"
    assert step.actions == ()  # the customer answers by writing, not by changing status
    assert [e.event for e in step.events] == ["customer_commented"]
    assert step.events[0].target == "Under behandling, Afventer supporter"

    assert triggered(WF, asked, "staff_commented") is None
    answered = customer_comment(asked, now + DAY)
    key = triggered(WF, answered, "customer_commented")
    assert key == "customer_answered"
    back = P.move(answered, SYSTEM_ACTOR, key, now + DAY)
    assert place(back) == (UB, "afventer_supporter")
    assert back.awaiting_reply_since is not None  # still for staff to answer
    assert WF.place_label(*place(back), "en") == "In progress, Waiting for a supporter"
    # elsewhere a customer comment moves nothing
    assert triggered(WF, customer_comment(back, now + 2 * DAY), "customer_commented") is None


def test_waiting_for_access_is_answered_the_same_way():
    snap = P.move(received(), AGENT, "ask_for_access", T0 + DAY, comment="Vi mangler VPN-adgang.")
    assert place(snap) == (UB, "afventer_adgang_til_kunde")
    assert triggered(WF, customer_comment(snap, T0 + 2 * DAY), "customer_commented") == (
        "customer_answered"
    )


# -- the release path ----------------------------------------------------------------------


def test_fix_goes_through_test_and_prod_with_the_customers_verdicts():
    now = T0 + DAY
    snap = P.move(received(), AGENT, "to_development", now)
    assert snap.team == "development"

    # waiting for an update needs the fix version the release events compare with
    refused = decide(WF, snap, AGENT, "await_update", Given(), now + DAY)
    assert isinstance(refused, Denied) and refused.missing == ("field:fix_version",)
    snap = P.move(snap, AGENT, "await_update", now + DAY, fields={"fix_version": "3.1.2"})
    assert place(snap) == (UB, "afventer_distribution_start")
    assert snap.fields["fix_version"] == "3.1.2"

    # a PROD release does not skip TEST; a TEST release without the fix does nothing
    assert triggered(WF, snap, "release_deployed", environment="PROD") is None
    key = triggered(WF, snap, "release_deployed", environment="TEST")
    assert key == "updated_in_test"
    snap = P.move(snap, SYSTEM_ACTOR, key, now + 5 * DAY)
    assert place(snap) == (UB, "opdateret_i_test_afventer_accept")
    assert snap.team == "support"
    assert WF.place_label(*place(snap), "da") == (
        "Under behandling, Opdateret i TEST. Afventer kunde accept"
    )
    assert P.keys(snap, MEMBER) == {"accept_in_test", "reject_in_test"}

    # the customer rejects: a comment is required, the case goes back to development
    refused = decide(WF, snap, MEMBER, "reject_in_test", Given(), now + 6 * DAY)
    assert isinstance(refused, Denied) and refused.missing == ("comment",)
    snap = P.move(snap, MEMBER, "reject_in_test", now + 6 * DAY, comment="Rapporten fejler stadig.")
    assert place(snap) == (UB, "opdateret_i_test_ikke_accepteret")
    assert snap.team == "development"
    assert "fix_version" not in snap.fields  # the next TEST release cannot move it by mistake
    assert triggered(WF, snap, "release_deployed", environment="TEST") is None

    # development fixes it again; this time it is waiting in development when TEST arrives
    snap = P.move(snap, AGENT, "to_development", now + 7 * DAY)
    snap = replace(snap, fields={"fix_version": "3.1.3"})
    key = triggered(WF, snap, "release_deployed", environment="TEST")
    assert key == "updated_in_test"
    snap = P.move(snap, SYSTEM_ACTOR, key, now + 10 * DAY)
    snap = P.move(snap, COLLEAGUE, "accept_in_test", now + 11 * DAY)
    assert place(snap) == (UB, "opdateret_i_test_accepteret")
    assert snap.status != "lukket"  # accepting in TEST does not close the case
    assert triggered(WF, snap, "release_deployed", environment="TEST") is None

    key = triggered(WF, snap, "release_deployed", environment="PROD")
    assert key == "updated_in_prod"
    snap = P.move(snap, SYSTEM_ACTOR, key, now + 20 * DAY)
    assert place(snap) == (UB, "opdateret_i_prod_afventer_accept")
    assert P.keys(snap, MEMBER) == {"accept_in_prod", "reject_in_prod"}
    done = P.move(snap, MEMBER, "accept_in_prod", now + 21 * DAY)
    assert place(done) == ("lukket", "opdateret_i_prod_accepteret")
    assert WF.place_label(*place(done), "da") == "Lukket, Opdateret i PROD, Accepteret af kunde"


def test_staff_can_record_the_updates_by_hand():
    snap = in_place("afventer_distribution_start", T0, fields={"fix_version": "3.1"})
    snap = P.move(snap, AGENT, "updated_in_test", T0 + DAY)
    assert place(snap) == (UB, "opdateret_i_test_afventer_accept")
    snap = P.move(snap, AGENT, "accept_in_test", T0 + 2 * DAY)  # customer said yes by phone
    snap = P.move(snap, AGENT, "updated_in_prod", T0 + 3 * DAY)
    assert place(snap) == (UB, "opdateret_i_prod_afventer_accept")


def test_rejected_in_prod_goes_back_to_development():
    snap = in_place("opdateret_i_prod_afventer_accept", T0, fields={"fix_version": "3.1"})
    snap = P.move(snap, MEMBER, "reject_in_prod", T0 + DAY, comment="Fejler i produktion.")
    assert place(snap) == (UB, "opdateret_i_prod_ikke_accepteret")
    assert snap.team == "development" and "fix_version" not in snap.fields


# -- timers ------------------------------------------------------------------------------


def test_prod_wait_closes_eight_days_after_the_update():
    entered = T0 + 10 * DAY
    snap = in_place("opdateret_i_prod_afventer_accept", entered)
    due = next_timer(WF, snap)
    assert due is not None and due.timer.key == "prod_close"
    assert due.due_at == entered + 8 * DAY

    # activity does not move a timer counted from the update
    talked = staff_comment(snap, entered + 3 * DAY)
    assert next_timer(WF, talked).due_at == entered + 8 * DAY

    # while the customer's comment is unanswered, the timer waits
    asked = customer_comment(talked, entered + 4 * DAY)
    assert next_timer(WF, asked) is None
    assert next_step(WF, asked, MEMBER, "da", entered + 4 * DAY).timer is None

    step = next_step(WF, talked, MEMBER, "da", entered + 3 * DAY)
    assert step.label == "Under behandling, Opdateret i PROD. Afventer kunde accept"
    assert step.timer is not None and step.timer.due_at == entered + 8 * DAY
    assert "{date}" in step.timer.notice and step.timer.notice.startswith("Hører vi")
    assert step.timer.target == "Lukket, Normal"

    closed = P.move(talked, SYSTEM_ACTOR, due.timer.transition, due.due_at)
    assert place(closed) == ("lukket", "normal")  # silence is not shown as acceptance
    assert next_timer(WF, closed) is None


def test_approval_wait_closes_eight_days_after_the_last_activity():
    now = T0 + DAY
    snap = P.move(received(), AGENT, "start_work", now)
    asked = now + DAY
    snap = P.move(snap, AGENT, "ask_for_approval", asked, comment="Indstillingen er rettet.")
    assert place(snap) == (UB, "afventer_godkendelse_fra_kunde")

    due = next_timer(WF, snap)
    assert due is not None and due.timer.key == "approval_close"
    assert due.due_at == asked + 8 * DAY

    # the customer writes: the timer waits until staff answer, then counts from the answer
    snap = customer_comment(snap, asked + 5 * DAY)
    assert next_timer(WF, snap) is None
    step = next_step(WF, snap, MEMBER, "da", asked + 5 * DAY)
    assert step.reply_pending and step.timer is None
    snap = staff_comment(snap, asked + 6 * DAY)
    assert next_timer(WF, snap).due_at == asked + 14 * DAY

    step = next_step(WF, snap, MEMBER, "da", asked + 6 * DAY)
    assert step.label == "Under behandling, Afventer godkendelse fra kunde"
    assert step.turn == "customer"
    assert step.timer.due_at == asked + 14 * DAY
    assert "{date}" in step.timer.notice
    assert {a.key for a in step.actions} == {"approve", "not_approved"}

    closed = P.move(snap, SYSTEM_ACTOR, "approval_timeout", asked + 14 * DAY)
    assert place(closed) == ("lukket", "normal")


def test_approval_verdicts():
    snap = in_place("afventer_godkendelse_fra_kunde", T0)
    approved = P.move(snap, MEMBER, "approve", T0 + DAY)
    assert place(approved) == ("lukket", "godkendt_af_kunde")
    assert WF.place_label(*place(approved), "da") == "Lukket, Godkendt af kunde"

    refused = decide(WF, snap, MEMBER, "not_approved", Given(), T0 + DAY)
    assert isinstance(refused, Denied) and refused.missing == ("comment",)
    rejected = P.move(snap, MEMBER, "not_approved", T0 + DAY, comment="Det virker ikke for alle.")
    assert place(rejected) == (UB, "ikke_godkendt_af_kunde")
    assert next_timer(WF, rejected) is None


# -- change requests -------------------------------------------------------------------------


def test_only_an_approver_accepts_an_offer():
    snap = P.move(received(type_="aendringsoenske"), AGENT, "register_change_request", T0 + DAY)
    assert snap.team == "development"
    snap = P.move(snap, AGENT, "send_offer", T0 + 2 * DAY, comment="10 timer, levering i Q1.")
    assert place(snap) == (UB, "aendringsoenske_tilbud_sendt")
    assert WF.turn_at(*place(snap)) == "customer"

    assert options(WF, snap, MEMBER) == []
    refused = decide(WF, snap, MEMBER, "accept_offer", Given(), T0 + 3 * DAY)
    assert isinstance(refused, Denied) and refused.reason == "role"
    assert P.keys(snap, APPROVER) == {"accept_offer", "decline_offer"}
    assert P.keys(snap, ORG_ADMIN) == {"accept_offer", "decline_offer"}

    accepted = P.move(snap, APPROVER, "accept_offer", T0 + 3 * DAY)
    assert place(accepted) == (UB, "aendringsoenske_tilbud_accepteret")
    assert accepted.team == "development"

    declined = P.move(snap, APPROVER, "decline_offer", T0 + 3 * DAY, comment="For dyrt.")
    assert place(declined) == (UB, "aendringsoenske_fra_kunde")


# -- closing and reopening -------------------------------------------------------------------


def test_reopen_marks_urgent_raises_priority_and_starts_a_new_cycle():
    snap = in_place("afventer_godkendelse_fra_kunde", T0, fields={"fix_version": "3.1"})
    snap = P.move(snap, MEMBER, "approve", T0 + DAY)
    assert snap.status == "lukket" and snap.cycle == 1

    assert options(WF, snap, MEMBER) == []
    refused = decide(WF, snap, MEMBER, "reopen", Given(comment="Igen!"), T0 + 5 * DAY)
    assert isinstance(refused, Denied) and refused.reason == "role"
    refused = decide(WF, snap, AGENT, "reopen", Given(), T0 + 5 * DAY)
    assert isinstance(refused, Denied) and refused.missing == ("comment",)

    reopened = P.move(snap, AGENT, "reopen", T0 + 5 * DAY, comment="Fejlen er opstået igen.")
    assert place(reopened) == ("genaabnet", "normal")
    assert "urgent" in reopened.flags
    assert reopened.priority == "hoj"
    assert reopened.cycle == 2
    assert reopened.team == "support"
    assert "fix_version" not in reopened.fields
    step = next_step(WF, reopened, MEMBER, "da", T0 + 5 * DAY)
    # HASTER is an internal mark: staff see it, the customer does not
    assert step.label == "Genåbnet, Normal" and "urgent" not in step.flags
    assert "urgent" in next_step(WF, reopened, AGENT, "da", T0 + 5 * DAY).flags
    assert WF.flag_label("urgent", "da") == "HASTER"

    # the new cycle runs the same way, and the urgent flag stays on the case
    working = P.move(reopened, AGENT, "start_work", T0 + 6 * DAY)
    assert place(working) == (UB, "normal") and "urgent" in working.flags

    # priority never goes past the top
    top = P.move(replace(snap, priority="kritisk"), AGENT, "reopen", T0 + 5 * DAY, comment="x")
    assert top.priority == "kritisk"


def test_staff_close_needs_a_reason_and_duplicates_need_nothing():
    snap = P.ticket()
    refused = decide(WF, snap, AGENT, "close", Given(), T0 + DAY)
    assert isinstance(refused, Denied) and refused.missing == ("comment",)
    closed = P.move(snap, AGENT, "close", T0 + DAY, comment="Kunden har løst det selv.")
    assert place(closed) == ("lukket", "normal")

    dup = decide(WF, snap, AGENT, "close_duplicate", Given(), T0 + DAY)
    assert isinstance(dup, Outcome) and (dup.status, dup.sub_status) == ("lukket", "normal")
    assert isinstance(decide(WF, snap, MEMBER, "close_duplicate", Given(), T0), Denied)


# -- customers never get a staff move ----------------------------------------------------------


def _staff_only(key: str) -> bool:
    by = expand_roles(WF.transitions[key].by)
    return not (by & {*CUSTOMER_ROLES, "reporter", "customer_assignee"})


@pytest.mark.parametrize(("status", "sub"), WF.places())
def test_a_customer_is_never_offered_nor_allowed_a_staff_transition(status, sub):
    snap = replace(received(), status=status, sub_status=sub, customer_assignee_id=100)
    for customer in CUSTOMERS:
        offered = P.keys(snap, customer)
        assert not {k for k in offered if _staff_only(k)}, (status, sub, customer)
        for t in WF.transitions_from(status, sub):
            if _staff_only(t.key):
                result = decide(WF, snap, customer, t.key, Given(comment="x"), T0 + DAY)
                assert isinstance(result, Denied) and result.reason == "role", t.key


def test_what_a_customer_may_do_in_each_place():
    expected = {
        ("ny", ""): set(),
        ("modtaget", "normal"): set(),
        (UB, "normal"): set(),
        (UB, "afventer_mere_info_fra_kunde"): set(),
        (UB, "afventer_godkendelse_fra_kunde"): {"approve", "not_approved"},
        (UB, "opdateret_i_test_afventer_accept"): {"accept_in_test", "reject_in_test"},
        (UB, "opdateret_i_prod_afventer_accept"): {"accept_in_prod", "reject_in_prod"},
        (UB, "standby"): set(),
        ("lukket", "normal"): set(),
        ("genaabnet", "normal"): set(),
    }
    for (status, sub), allowed in expected.items():
        snap = replace(received(), status=status, sub_status=sub)
        assert P.keys(snap, MEMBER) == allowed, (status, sub)
        assert P.keys(snap, COLLEAGUE) == allowed, (status, sub)


def test_staff_transitions_refused_to_the_reporter_with_code_role():
    snap = received()
    for key in ("start_work", "to_development", "close", "change_sub_status"):
        result = decide(WF, snap, MEMBER, key, Given(comment="x", sub_status="normal"), T0)
        assert isinstance(result, Denied) and result.reason == "role", key


def test_next_step_in_english_too():
    snap = in_place("opdateret_i_test_afventer_accept", T0)
    step = next_step(WF, snap, MEMBER, "en", T0)
    assert step.label == "In progress, Updated in TEST. Waiting for customer acceptance"
    labels = {a.key: a.label for a in step.actions}
    assert labels == {
        "accept_in_test": "Accept the fix in TEST",
        "reject_in_test": "Reject the fix in TEST",
    }
    reject = next(a for a in step.actions if a.key == "reject_in_test")
    assert reject.needs == ("comment",) and reject.prompt == "What still does not work?"


def test_staff_read_the_internal_notes_that_customers_never_see():
    reopened = P.ticket("genaabnet", sub_status="normal", flags=frozenset({"urgent"}))
    staff = next_step(WF, reopened, AGENT, "da", T0)
    assert "HASTER" in staff.staff_note
    for viewer in CUSTOMERS:
        view = next_step(WF, reopened, viewer, "da", T0)
        assert view.staff_note == "" and "urgent" not in view.flags
    standby = next_step(WF, P.ticket("under_behandling", sub_status="standby"), AGENT, "en", T0)
    assert standby.staff_note == "Only by agreement with the customer."
    every_note = [s.staff_note for s in (*WF.statuses.values(), *WF.sub_statuses.values())]
    assert all(set(n) == {"da", "en"} for n in every_note if n)
