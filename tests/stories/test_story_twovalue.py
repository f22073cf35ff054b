"""The 2Value story (seed 002) told through the ticket services and the real database.

A Dutch consultancy keeps somebody "on the ball" for every case and only lets a case click
forward: open, scheduled, started, (fixed, tested,) delivered, closed. Waiting for the
customer's input and a pause decided by the customer are asides that return to where the
case was; "granted", "duplicate" and "reopened" are properties, never statuses. The clock
is frozen and moved by hand, so every stamp and history entry can be checked exactly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from casedesk.common.errors import Forbidden, InvalidInput, TransitionRefused
from casedesk.ops.worker import run_once
from casedesk.sheets import estimates
from casedesk.sheets import services as sheets
from casedesk.sheets.models import Estimate, WorkKind
from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket, TicketEvent, TicketLink, TicketTimer
from casedesk.tickets.selectors import comments_for, history_for, next_step_for
from tests.conftest import make_desk
from tests.helpers import fresh, state


@pytest.fixture
def desk(world):
    return make_desk("twovalue", "TV", [world.org_a, world.org_b], {world.agent: "agent"})


@pytest.fixture
def consultant(world):
    # The 2Value associate who takes cases on; the desk's own agent.
    return world.agent


def moves(ticket: Ticket) -> list[tuple[str, str]]:
    """The workflow transitions in the ticket's history: (transition, who made it)."""
    return [
        (e.data["transition"], e.actor_kind)
        for e in TicketEvent.objects.filter(ticket=ticket, kind="transition")
    ]


def kinds(ticket: Ticket, prefix: str) -> list[str]:
    return [e.kind for e in TicketEvent.objects.filter(ticket=ticket, kind__startswith=prefix)]


def refused(**kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        services.ticket_transition(**kwargs)
    return caught.value


def test_a_case_clicks_forward_from_open_to_closed(world, desk, consultant, clock):
    alice, anna = world.alice, world.anna

    # Monday morning Alice registers a case in the portal. It is open, it is 2Value's move,
    # and it counts as active: somebody here has to do something with it.
    case = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Nightly export to the ERP stops halfway",
        description="Since the weekend the export job ends after the first company.",
        priority="high",
    )
    case = fresh(case)
    assert case.key == "TV-1"
    assert (case.status, case.category, case.turn, case.active) == ("open", "new", "supplier", True)
    assert (case.progress_rank, case.cycle, case.assignee_id) == (1, 1, None)
    step = next_step_for(user=alice, ticket=case, lang="nl")
    assert (step.label, step.turn, step.actions) == ("Open", "supplier", ())
    staff_step = next_step_for(user=consultant, ticket=case, lang="en")
    needs = {a.key: a.needs for a in staff_step.actions}
    assert needs["start"] == ("assignee",)
    assert needs["schedule"] == ("assignee", "comment")

    # Nobody is on the ball yet, so the case cannot leave open in any direction.
    before = state(case)
    no_one = refused(actor=consultant, ticket=case, transition="start")
    assert (no_one.reason, no_one.missing) == ("requirement", ("assignee",))
    no_one = refused(actor=consultant, ticket=case, transition="schedule", comment="Tuesday 9:00")
    assert (no_one.reason, no_one.missing) == ("requirement", ("assignee",))
    assert state(case) == before

    # The consultant takes it on and puts it in the planning, confirming in writing when the
    # work starts and when a solution can be expected.
    clock.advance(hours=1)
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="schedule",
        assignee=consultant,
        comment="Work starts Tuesday 9:00; we expect a fix by Wednesday noon.",
    )
    case = fresh(case)
    assert (case.status, case.progress_rank, case.assignee) == ("scheduled", 2, consultant)
    assigned = TicketEvent.objects.get(ticket=case, kind="assigned")
    assert assigned.data == {"assignee": [None, consultant.pk]}
    schedule = TicketEvent.objects.filter(ticket=case, kind="transition").last()
    assert schedule.data["from"]["status"] == "open"
    assert Comment.objects.get(pk=schedule.data["comment"]).body.startswith("Work starts")

    # Tuesday: the work begins.
    clock.advance(days=1)
    services.ticket_transition(actor=consultant, ticket=case, transition="start")
    case = fresh(case)
    assert (case.status, case.progress_rank, case.active) == ("started", 3, True)

    # The consultant needs an answer from the customer. Pending input only makes sense when
    # a person at the customer is named, so without one it is refused.
    before = state(case)
    nobody = refused(
        actor=consultant,
        ticket=case,
        transition="ask_input",
        comment="Which company code makes the export stop?",
    )
    assert (nobody.reason, nobody.missing) == ("requirement", ("customer_assignee",))
    assert state(case) == before
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="ask_input",
        customer_assignee=alice,
        comment="Which company code makes the export stop?",
    )
    case = fresh(case)
    assert (case.status, case.turn, case.active) == ("pending_input", "customer", True)
    assert (case.customer_assignee, case.previous_status) == (alice, "started")
    step = next_step_for(user=alice, ticket=case, lang="en")
    assert step.label == "Pending input"
    assert [e.event for e in step.events] == ["customer_commented"]

    # The answer reaches the consultant by phone and he tries to plan the case again. The
    # case already got past scheduled in this cycle, so that would be a step backwards.
    before = state(case)
    backwards = refused(
        actor=consultant, ticket=case, transition="schedule", comment="Replanned for Friday"
    )
    assert backwards.reason == "order"
    assert state(case) == before

    # Alice answers in the portal; her comment is the input, and the case goes back to
    # started by itself.
    clock.advance(hours=3)
    answer = services.comment_add(actor=alice, ticket=case, body="Company 0300, the new one.")
    case = fresh(case)
    assert (case.status, case.turn, case.previous_status) == (
        "started",
        "supplier",
        "pending_input",
    )
    returned = TicketEvent.objects.filter(ticket=case, kind="transition").last()
    assert (returned.data["transition"], returned.actor_kind, returned.channel) == (
        "input_received",
        "system",
        "system",
    )
    assert returned.actor is None
    assert returned.data["cause"] == {"event": "customer_commented", "comment": answer.pk}
    assert returned.data["to"] == {"status": "started", "sub_status": ""}

    # The fix turns out bigger: the consultant estimates 6.5 hours and asks the approver at
    # the customer to grant them. The estimate waits for a grant from now on, and the
    # organisation's approvers are told so by mail.
    clock.advance(hours=2)
    estimates.estimate_set(actor=consultant, ticket=case, hours="6.5")
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="ask_input",
        customer_assignee=anna,
        comment="The fix needs about 6.5 hours. May we go ahead?",
    )
    case = fresh(case)
    assert (case.status, case.customer_assignee) == ("pending_input", anna)
    shown = estimates.estimate_for(user=anna, ticket=case)
    assert (shown.hours, shown.awaiting, shown.can_grant) == (Decimal("6.50"), True, True)
    assert estimates.estimate_for(user=alice, ticket=case).can_grant is False
    # Alice may answer questions but cannot grant hours, by the workflow or directly; Anna,
    # the approver, can.
    before = state(case)
    assert refused(actor=alice, ticket=case, transition="grant_estimate").reason == "role"
    with pytest.raises(Forbidden):
        estimates.estimate_grant(actor=alice, ticket=case)
    assert state(case) == before
    assert Estimate.objects.get(ticket=case).granted_at is None
    clock.advance(hours=20)
    services.ticket_transition(actor=anna, ticket=case, transition="grant_estimate")
    case = fresh(case)
    assert case.status == "started"  # granted is a property, not a status
    row = Estimate.objects.get(ticket=case)
    assert (row.granted_hours, row.granted_by, row.granted_at) == (Decimal("6.50"), anna, clock())
    grant = TicketEvent.objects.filter(ticket=case, kind="estimate_granted").get()
    assert (grant.actor, grant.actor_kind, grant.at) == (anna, "customer", clock())
    assert grant.data == {"hours": "6.50", "before": None}
    granted_at = clock()

    # A component vendor announces an upgrade; on 2Value's advice the customer decides to
    # pause the case. Only someone who decides for the organisation may, with a reason.
    clock.advance(hours=1)
    before = state(case)
    member = refused(
        actor=alice, ticket=case, transition="put_on_hold", comment="Let us wait for it"
    )
    assert member.reason == "role"
    no_reason = refused(actor=anna, ticket=case, transition="put_on_hold")
    assert (no_reason.reason, no_reason.missing) == ("requirement", ("comment",))
    assert state(case) == before
    services.ticket_transition(
        actor=anna,
        ticket=case,
        transition="put_on_hold",
        comment="We wait for the connector upgrade due next month.",
    )
    case = fresh(case)
    assert (case.status, case.turn, case.active) == ("on_hold", "customer", False)
    assert not TicketTimer.objects.filter(ticket=case).exists()
    assert {a.key for a in next_step_for(user=anna, ticket=case, lang="nl").actions} == {"resume"}

    # The upgrade arrives; Anna lets the case continue and it is started again.
    clock.advance(days=20)
    services.ticket_transition(actor=anna, ticket=case, transition="resume")
    case = fresh(case)
    assert (case.status, case.active, case.progress_rank) == ("started", True, 3)

    # While building the fix the consultant logs the work. At 80 % of the estimate he is
    # warned (once); the customer hears nothing yet.
    clock.advance(hours=2)
    kind = WorkKind.objects.create(desk=desk, slug="consulting", labels={"en": "Consulting"})
    sheets.work_log(
        actor=consultant, ticket=case, minutes=300, description="Analysis", kind=kind.slug
    )
    sheets.work_log(actor=consultant, ticket=case, minutes=20, description="Tests", kind=kind.slug)
    assert kinds(case, "estimate_") == ["estimate_set", "estimate_granted", "estimate_warning"]
    warning = TicketEvent.objects.get(ticket=case, kind="estimate_warning")
    assert (warning.public, warning.data["percent"]) == (False, 82)
    assert estimates.estimate_for(user=consultant, ticket=case).warning
    assert "estimate_warning" not in [e.kind for e in history_for(user=alice, ticket=case)]

    # He finds more to do and raises the estimate to 9 hours. That withdraws Anna's grant:
    # she is asked again (by mail, and an action on her portal page) before the case waits.
    clock.advance(hours=1)
    estimates.estimate_set(actor=consultant, ticket=case, hours="9")
    row = Estimate.objects.get(ticket=case)
    assert (row.hours, row.awaiting, row.granted_hours) == (Decimal("9.00"), True, Decimal("6.50"))
    raised = TicketEvent.objects.filter(ticket=case, kind="estimate_set").last()
    assert raised.data == {
        "hours": ["6.50", "9.00"],
        "granted": "6.50",
        "withdrawn": True,
        "awaiting": True,
    }
    assert estimates.estimate_for(user=anna, ticket=case).can_grant
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="ask_input",
        comment="The connector upgrade needs 2.5 more hours; 9 in total. Still fine?",
    )
    case = fresh(case)
    assert case.status == "pending_input"
    clock.advance(hours=1)
    services.ticket_transition(actor=anna, ticket=case, transition="grant_estimate")
    case = fresh(case)
    row = Estimate.objects.get(ticket=case)
    assert (case.status, row.granted_hours, row.granted_at) == ("started", Decimal("9.00"), clock())
    stamps = [
        (e.data["hours"], e.at)
        for e in TicketEvent.objects.filter(ticket=case, kind="estimate_granted")
    ]
    assert stamps == [("6.50", granted_at), ("9.00", clock())]

    # Lowering the estimate keeps the grant: 9 hours granted cover 8.
    estimates.estimate_set(actor=consultant, ticket=case, hours="8")
    assert not Estimate.objects.get(ticket=case).awaiting

    # The work reaches 8 hours: the customer is told that the estimate is used up, once.
    # (The raise measured the new estimate afresh, so 80 % of 8 hours warned staff again.)
    sheets.work_log(actor=consultant, ticket=case, minutes=160, description="Fix", kind=kind.slug)
    sheets.work_log(actor=consultant, ticket=case, minutes=10, description="Docs", kind=kind.slug)
    reached = TicketEvent.objects.get(ticket=case, kind="estimate_reached")
    assert (reached.public, reached.data["percent"], reached.data["hours"]) == (True, 100, "8.00")
    assert [e.kind for e in history_for(user=alice, ticket=case)].count("estimate_reached") == 1
    assert estimates.estimate_for(user=alice, ticket=case).reached
    assert TicketEvent.objects.filter(ticket=case, kind="estimate_warning").count() == 2

    # No internal delivery is needed for this change, so fixed and tested are skipped and
    # the result is delivered straight away, with a request to confirm it works.
    clock.advance(hours=4)
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="deliver",
        comment="The export now handles every company. Please confirm tonight's run.",
    )
    case = fresh(case)
    assert (case.status, case.category, case.turn, case.active) == (
        "delivered",
        "resolved",
        "customer",
        False,
    )
    assert case.progress_rank == 6
    assert {a.key for a in next_step_for(user=alice, ticket=case, lang="en").actions} == {
        "confirm",
        "not_solved",
    }

    # The next morning Alice confirms that the export ran through: the case is closed.
    clock.advance(hours=16)
    services.ticket_transition(actor=alice, ticket=case, transition="confirm")
    case = fresh(case)
    assert (case.status, case.category, case.turn, case.active) == (
        "closed",
        "closed",
        "nobody",
        False,
    )
    assert (case.closed_at, case.cycle, case.progress_rank) == (clock(), 1, 7)
    assert next_step_for(user=alice, ticket=case, lang="en").actions == ()

    assert moves(case) == [
        ("schedule", "staff"),
        ("start", "staff"),
        ("ask_input", "staff"),
        ("input_received", "system"),
        ("ask_input", "staff"),
        ("grant_estimate", "customer"),
        ("put_on_hold", "customer"),
        ("resume", "customer"),
        ("ask_input", "staff"),
        ("grant_estimate", "customer"),
        ("deliver", "staff"),
        ("confirm", "customer"),
    ]
    # The customer reads the same story, conversation included.
    assert [e.kind for e in history_for(user=alice, ticket=case)].count("transition") == 12
    assert len(comments_for(user=alice, ticket=case)) == 7


def test_a_delivery_that_did_not_solve_it_opens_a_new_cycle(world, desk, consultant, clock):
    alice = world.alice
    case = services.ticket_create(actor=alice, desk=desk, title="Invoice layout shows no VAT")
    services.ticket_transition(
        actor=consultant, ticket=case, transition="start", assignee=consultant
    )

    # This time the fix is delivered internally first, so it has to be tested before the
    # customer gets it; delivering straight from fixed is not possible.
    clock.advance(hours=2)
    services.ticket_transition(actor=consultant, ticket=case, transition="fix")
    before = state(case)
    early = refused(
        actor=consultant, ticket=case, transition="deliver", comment="Please check the layout"
    )
    assert early.reason == "wrong_status"
    assert state(case) == before
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="test",
        comment="Internal test passed; report in the project share.",
    )
    services.ticket_transition(
        actor=consultant, ticket=case, transition="deliver", comment="Please check an invoice"
    )
    case = fresh(case)
    assert (case.status, case.progress_rank, case.active) == ("delivered", 6, False)

    # Alice finds the VAT still missing on credit notes. Saying it is not solved needs a
    # description of what is wrong; then the case starts over in open, as cycle two, with
    # the same consultant still on the ball.
    clock.advance(days=1)
    before = state(case)
    silent = refused(actor=alice, ticket=case, transition="not_solved")
    assert (silent.reason, silent.missing) == ("requirement", ("comment",))
    assert state(case) == before
    services.ticket_transition(
        actor=alice,
        ticket=case,
        transition="not_solved",
        comment="Credit notes still show no VAT line.",
    )
    case = fresh(case)
    assert (case.status, case.cycle, case.progress_rank) == ("open", 2, 1)
    assert (case.active, case.turn, case.assignee) == (True, "supplier", consultant)
    reopen = TicketEvent.objects.filter(ticket=case, kind="transition").last()
    assert (reopen.data["transition"], reopen.data["cycle"]) == ("not_solved", 2)

    # In the new cycle the case may be planned again: that is not a step backwards now.
    services.ticket_transition(
        actor=consultant, ticket=case, transition="schedule", comment="Thursday morning"
    )
    services.ticket_transition(actor=consultant, ticket=case, transition="start")
    services.ticket_transition(
        actor=consultant, ticket=case, transition="deliver", comment="Credit notes fixed too"
    )
    # Alice confirms by mail; the consultant pastes her answer as the closing comment.
    clock.advance(days=1)
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="close_confirmed",
        comment='Mail from Alice: "All invoices look right now, thanks."',
    )
    case = fresh(case)
    assert (case.status, case.cycle, case.active, case.closed_at) == ("closed", 2, False, clock())

    # A month later the problem is back. Only 2Value reopens a closed case, with a reason;
    # it becomes a third cycle and is no longer closed.
    clock.advance(days=30)
    assert (
        refused(actor=alice, ticket=case, transition="reopen_closed", comment="Again").reason
        == "role"
    )
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="reopen_closed",
        comment="Customer reports the VAT line missing after the year-end update.",
    )
    case = fresh(case)
    assert (case.status, case.cycle, case.progress_rank) == ("open", 3, 1)
    assert (case.active, case.closed_at) == (True, None)
    assert [m for m, _ in moves(case)] == [
        "start",
        "fix",
        "test",
        "deliver",
        "not_solved",
        "schedule",
        "start",
        "deliver",
        "close_confirmed",
        "reopen_closed",
    ]


def test_a_duplicate_is_closed_and_renamed_the_main_case_goes_on(world, desk, consultant, clock):
    main = services.ticket_create(actor=world.alice, desk=desk, title="VPN drops every hour")
    services.ticket_transition(
        actor=consultant, ticket=main, transition="start", assignee=consultant
    )
    # A colleague reports the same problem an hour later. Nobody is assigned to it, and no
    # one needs to be: a duplicate is closed without the usual requirements.
    clock.advance(hours=1)
    dup = services.ticket_create(actor=world.amir, desk=desk, title="VPN keeps disconnecting")
    main_before = fresh(main)

    services.ticket_mark_duplicate(
        actor=consultant, ticket=dup, original=main, comment="Same problem as TV-1; see there."
    )
    dup, main = fresh(dup), fresh(main)

    # Only the duplicate gets the prefix and goes to closed; the main case stays active.
    assert dup.title == "DUPLICATE: VPN keeps disconnecting"
    assert (dup.status, dup.category, dup.active, dup.assignee_id) == (
        "closed",
        "closed",
        False,
        None,
    )
    assert dup.closed_at == clock()
    assert (main.title, main.status, main.active) == ("VPN drops every hour", "started", True)
    assert main.version == main_before.version + 1

    # Both cases point at each other.
    assert TicketLink.objects.filter(source=dup, target=main, kind="duplicate_of").exists()
    assert TicketEvent.objects.get(ticket=dup, kind="duplicate_of").data == {"original": main.key}
    assert TicketEvent.objects.get(ticket=main, kind="duplicate_added").data == {
        "duplicate": dup.key
    }
    rename = TicketEvent.objects.get(ticket=dup, kind="edited")
    assert rename.data["title"] == ["VPN keeps disconnecting", "DUPLICATE: VPN keeps disconnecting"]
    close = TicketEvent.objects.get(ticket=dup, kind="transition")
    assert (close.data["transition"], close.data["to"]["status"]) == ("close_duplicate", "closed")
    assert Comment.objects.get(pk=close.data["comment"]).body.startswith("Same problem")

    # The duplicate cannot be marked twice, nor can the main case become its duplicate.
    with pytest.raises(InvalidInput):
        services.ticket_mark_duplicate(actor=consultant, ticket=main, original=dup)
    # Nothing waits on either case: 2Value declares no timers yet.
    assert run_once() == (0, 0)
    assert not TicketTimer.objects.filter(ticket__in=[dup, main]).exists()


def test_a_case_is_rejected_only_before_the_work_starts(world, desk, consultant, clock):
    # A request outside the contract is turned down while it is still being planned, with
    # the reason in the conversation; a rejected case asks nothing of anyone.
    outside = services.ticket_create(
        actor=world.alice, desk=desk, title="Please also migrate our mail server"
    )
    services.ticket_transition(
        actor=consultant,
        ticket=outside,
        transition="schedule",
        assignee=consultant,
        comment="We plan an intake call on Friday.",
    )
    before = state(outside)
    assert refused(actor=consultant, ticket=outside, transition="reject").missing == ("comment",)
    assert state(outside) == before
    services.ticket_transition(
        actor=consultant,
        ticket=outside,
        transition="reject",
        comment="Mail hosting is not part of the support contract.",
    )
    outside = fresh(outside)
    assert (outside.status, outside.category, outside.active, outside.turn) == (
        "rejected",
        "cancelled",
        False,
        "nobody",
    )
    assert next_step_for(user=world.alice, ticket=outside, lang="nl").actions == ()

    # Once work has started, a case ends through delivery instead.
    started = services.ticket_create(actor=world.alice, desk=desk, title="Printer driver")
    services.ticket_transition(
        actor=consultant, ticket=started, transition="start", assignee=consultant
    )
    before = state(started)
    late = refused(actor=consultant, ticket=started, transition="reject", comment="Too late")
    assert late.reason == "wrong_status"
    assert state(started) == before


def test_nobody_is_taken_off_the_ball_once_the_case_runs(world, desk, consultant, clock):
    case = services.ticket_create(actor=world.alice, desk=desk, title="Backup job fails")
    services.ticket_transition(
        actor=consultant, ticket=case, transition="start", assignee=consultant
    )
    services.ticket_transition(
        actor=consultant,
        ticket=case,
        transition="ask_input",
        customer_assignee=world.alice,
        comment="Which backup set fails?",
    )
    before = state(case)

    # Leaving the case with nobody on 2Value's side, or waiting for input from nobody at
    # the customer, breaks the rule the workflow enforced on the way in.
    with pytest.raises((InvalidInput, TransitionRefused)):
        services.ticket_assign_customer(actor=consultant, ticket=case, person=None)
    with pytest.raises((InvalidInput, TransitionRefused)):
        services.ticket_assign(actor=consultant, ticket=case, assignee=None)
    assert state(case) == before
    case = fresh(case)
    assert (case.status, case.assignee, case.customer_assignee) == (
        "pending_input",
        consultant,
        world.alice,
    )


def test_service_levels_8x5_for_support_and_24x7_for_monitored_infrastructure(
    world, desk, consultant, clock
):
    """Brabant-style customers are on office hours; Org B's infrastructure is watched
    around the clock. The worker warns and records the missed targets; pending input
    pauses the clock and the case stays active."""
    from datetime import UTC, datetime

    from casedesk.sla.models import SlaPlan, TicketClock
    from casedesk.sla.presets import sla_preset_apply
    from casedesk.sla.services import organisation_plan_set

    sla_preset_apply(actor=world.admin, desk=desk, preset="twovalue")
    organisation_plan_set(
        actor=world.admin,
        desk=desk,
        organisation=world.org_b,
        plan=SlaPlan.objects.get(desk=desk, slug="around_the_clock"),
    )
    # Friday 16:30 in Amsterdam a critical case from each customer.
    clock.set(datetime(2026, 11, 6, 15, 30, tzinfo=UTC))
    office = services.ticket_create(
        actor=world.alice, desk=desk, title="ERP down", priority="critical"
    )
    watched = services.ticket_create(
        actor=world.bob, desk=desk, title="Disk full", priority="critical"
    )

    def clocks(ticket):
        return {c.target: c for c in TicketClock.objects.filter(ticket=ticket)}

    # 30 business minutes: Friday's last 30 minutes; 15 minutes of wall-clock for 24x7
    assert clocks(office)["first_response"].due_at == datetime(2026, 11, 6, 16, 0, tzinfo=UTC)
    assert clocks(watched)["first_response"].due_at == datetime(2026, 11, 6, 15, 45, tzinfo=UTC)
    # 4 business hours to resolve: 30 minutes on Friday, then Monday 08:00-11:30
    assert clocks(office)["resolution"].due_at == datetime(2026, 11, 9, 10, 30, tzinfo=UTC)

    # The worker was down until Saturday night: it records the 24x7 case's missed
    # targets (a warning that comes after its breach is not sent any more); the
    # office-hours case missed its first response at Friday 17:00 and nothing else.
    clock.set(datetime(2026, 11, 7, 22, 0, tzinfo=UTC))
    run_once()
    noted = lambda t: sorted(  # noqa: E731
        (e.kind, e.data["sla"]["target"])
        for e in TicketEvent.objects.filter(ticket=t, kind__startswith="sla_")
    )
    assert noted(watched) == [
        ("sla_breached", "first_response"),
        ("sla_breached", "resolution"),
    ]
    assert noted(office) == [("sla_breached", "first_response")]
    # Each missed case is flagged where it is, once however many targets it missed; the
    # flag is internal, so the customer's history does not show it.
    for t in (office, watched):
        assert fresh(t).flags == ["sla_missed"] and fresh(t).status == "open"
    flagged = TicketEvent.objects.filter(ticket=watched, kind="flagged")
    assert [(e.data["flag"], e.public) for e in flagged] == [("sla_missed", False)]

    # Monday 08:30 the consultant answers and asks for input: the resolution clock pauses
    # while the case stays active.
    clock.set(datetime(2026, 11, 9, 7, 30, tzinfo=UTC))
    services.ticket_transition(
        actor=consultant,
        ticket=office,
        transition="ask_input",
        comment="Which company code?",
        assignee=consultant,
        customer_assignee=world.alice,
    )
    res = clocks(office)["resolution"]
    assert fresh(office).active and not res.running and res.used_seconds == 60 * 60
    assert clocks(office)["first_response"].met_at == clock()
