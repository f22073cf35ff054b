"""The TIME m SYSTEM customer centre (seed 000, preset `tms`) told as one story through the
real ticket services: database rows, history, release deliveries and timers fired by the
worker, with a clock the test moves by hand.

A case shows two levels, "Status, Sub-status". The customer never picks a status; they
answer when asked and give their verdict in TEST, in PROD and on a solution.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from casedesk.common.clock import now
from casedesk.common.errors import TransitionRefused
from casedesk.ops.worker import run_once
from casedesk.releases.models import Acceptance
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent, TicketTimer
from casedesk.tickets.selectors import history_for, next_step_for, ticket_get_for_actor
from tests.api.conftest import Api
from tests.conftest import make_desk
from tests.helpers import fresh, state
from tests.releases.pipeline import Pipeline

UB = "under_behandling"
EIGHT_DAYS = timedelta(days=8)


def place(ticket: Ticket) -> tuple[str, str]:
    return ticket.status, ticket.sub_status


def team(ticket: Ticket) -> str:
    return ticket.team.slug if ticket.team_id else ""


def system_moves(ticket: Ticket):
    return TicketEvent.objects.filter(ticket=ticket, kind="transition", actor_kind="system")


def last_move(ticket: Ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket, kind="transition").last()


def refused(reason: str, **kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        services.ticket_transition(**kwargs)
    assert caught.value.reason == reason, caught.value.message
    return caught.value


def test_a_case_from_report_through_test_and_prod_to_reopening_and_approval(world, clock, db):
    desk = make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    alice, amir, bob, agent = world.alice, world.amir, world.bob, world.agent
    # The supplier's delivery pipeline: one version line, each customer a TEST and a PROD.
    pipeline = Pipeline(
        lead=world.lead,
        desk=desk,
        versions={"3": ["3.1.1", "3.1.2", "3.2", "3.3"]},
        orgs=[world.org_a, world.org_b],
    )

    # -- Ny (Ubehandlet) ------------------------------------------------------------------
    # The customer reports a fault in the portal. Nobody at the supplier has read it yet.
    case = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Lønkørslen stopper ved afdeling 12",
        description="Kørslen stopper med en fejl, når afdeling 12 kommer med.",
    )
    case = fresh(case)
    assert case.key == "TMS-1"
    assert (place(case), case.category, case.turn) == (("ny", ""), "new", "supplier")
    assert (case.type, case.priority, case.cycle) == ("fejl", "normal", 1)
    created = TicketEvent.objects.get(ticket=case)
    assert (created.kind, created.actor, created.data["status"]) == ("created", alice, "ny")
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert (step.label, step.turn, step.actions) == ("Ny (Ubehandlet)", "supplier", ())
    assert not TicketTimer.objects.filter(ticket=case).exists()

    # Customers cannot change these statuses: not even "receive" on their own case.
    before = state(case)
    refused("role", actor=alice, ticket=case, transition="receive", assignee=agent)
    assert state(case) == before

    # -- Modtaget: a supporter has read the case and it is assigned to them ----------------
    clock.advance(hours=1)
    error = refused("requirement", actor=agent, ticket=case, transition="receive")
    assert error.missing == ("assignee",)
    assert state(case) == before
    services.ticket_transition(actor=agent, ticket=case, transition="receive", assignee=agent)
    case = fresh(case)
    assert place(case) == ("modtaget", "normal")
    assert (case.assignee, team(case), case.turn) == (agent, "support", "supplier")
    assigned = TicketEvent.objects.get(ticket=case, kind="assigned")
    assert assigned.data["assignee"] == [None, agent.pk]
    move = last_move(case)
    assert move.data["transition"] == "receive" and move.data["team"] == ["", "support"]
    assert next_step_for(user=alice, ticket=case, lang="da").label == "Modtaget, Normal"

    # -- Under behandling: the second level says who has the case right now -----------------
    clock.advance(hours=2)
    services.ticket_transition(actor=agent, ticket=case, transition="start_work")
    case = fresh(case)
    assert place(case) == (UB, "normal") and team(case) == "support"
    # The supporter needs the developers; then hands back to support.
    services.ticket_transition(actor=agent, ticket=case, transition="to_development")
    case = fresh(case)
    assert (place(case), team(case)) == ((UB, "afventer_udviklingen"), "development")
    assert next_step_for(user=alice, ticket=case, lang="da").label == (
        "Under behandling, Afventer udviklingen"
    )
    services.ticket_transition(actor=agent, ticket=case, transition="to_operations")
    assert (place(fresh(case)), team(fresh(case))) == ((UB, "afventer_tms_drift"), "operations")
    # Staff may show any working combination by hand, with a word to the customer; that
    # changes no team. Standby is agreed with the customer, and then nobody is on the move.
    refused(
        "invalid",
        actor=agent,
        ticket=case,
        transition="change_sub_status",
        sub_status="godkendt_af_kunde",  # a closing sub-status, not a working one
        comment="Forkert valg.",
    )
    services.ticket_transition(
        actor=agent,
        ticket=case,
        transition="change_sub_status",
        sub_status="standby",
        comment="Som aftalt venter vi, til lønkørslen i denne måned er færdig.",
    )
    case = fresh(case)
    assert (place(case), team(case)) == ((UB, "standby"), "operations")
    assert (case.turn, case.active) == ("customer", False)  # the customer says when it goes on
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert (step.label, step.turn, step.actions) == ("Under behandling, Standby", "customer", ())
    assert [(e.event, e.target) for e in step.events] == [
        ("customer_commented", "Under behandling, Afventer supporter")
    ]
    services.ticket_transition(actor=agent, ticket=case, transition="to_support")
    case = fresh(case)
    assert (place(case), team(case)) == ((UB, "afventer_supporter"), "support")
    assert (case.turn, case.active) == ("supplier", True)

    # -- Afventer mere info fra kunde: nothing happens until the customer answers -----------
    clock.advance(hours=1)
    refused("requirement", actor=agent, ticket=case, transition="ask_for_info")
    services.ticket_transition(
        actor=agent,
        ticket=case,
        transition="ask_for_info",
        comment="Hvilken version af lønmodulet kører I?",
    )
    case = fresh(case)
    assert (place(case), case.turn) == ((UB, "afventer_mere_info_fra_kunde"), "customer")
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.label == "Under behandling, Afventer mere info fra kunde"
    assert step.turn == "customer"
    assert step.actions == ()  # the customer answers by writing, not with a button
    assert [(e.event, e.target) for e in step.events] == [
        ("customer_commented", "Under behandling, Afventer supporter")
    ]

    # The customer's reply by itself sends the case back to a supporter.
    clock.advance(hours=3)
    answer = services.comment_add(actor=alice, ticket=case, body="Vi kører version 3.1.0.")
    case = fresh(case)
    assert (place(case), case.turn) == ((UB, "afventer_supporter"), "supplier")
    assert case.awaiting_reply_since == clock()  # staff still owe the customer an answer
    auto = last_move(case)
    assert (auto.actor_kind, auto.actor, auto.channel) == ("system", None, "system")
    assert auto.data["transition"] == "customer_answered"
    assert auto.data["cause"] == {"event": "customer_commented", "comment": answer.pk}
    # Elsewhere a customer's comment moves nothing.
    services.comment_add(actor=alice, ticket=case, body="Og vi bruger Windows Server 2019.")
    assert place(fresh(case)) == (UB, "afventer_supporter")

    # A case of another organisation waits for the same fix (used for the releases below).
    other = services.ticket_create(actor=bob, desk=desk, title="Samme fejl hos B")
    services.ticket_transition(actor=agent, ticket=other, transition="receive", assignee=agent)
    services.ticket_transition(
        actor=agent, ticket=other, transition="await_update", fields={"fix_version": "3.1.2"}
    )
    assert place(fresh(other)) == (UB, "afventer_distribution_start")

    # -- Afventer Distribution start: the fix needs an update of the customer's system -----
    clock.advance(days=1)
    services.ticket_transition(actor=agent, ticket=case, transition="to_development")
    error = refused("requirement", actor=agent, ticket=case, transition="await_update")
    assert error.missing == ("field:fix_version",)
    services.ticket_transition(
        actor=agent, ticket=case, transition="await_update", fields={"fix_version": "3.1.2"}
    )
    case = fresh(case)
    assert place(case) == (UB, "afventer_distribution_start")
    assert case.fields["fix_version"] == "3.1.2"
    assert case.awaiting_reply_since is None  # staff acted, the customer has an answer
    waiting = state(case)

    # A TEST update with an OLDER version does not carry the fix: nothing moves.
    clock.advance(days=2)
    assert pipeline.deploy(world.org_a, "TEST", "3.1.1") == (0, 1)
    assert state(case) == waiting
    # A PROD update that comes before the TEST one moves nothing yet: the case has not been
    # accepted in TEST. (It is remembered: see the acceptance below.)
    assert pipeline.deploy(world.org_a, "PROD", "3.2") == (0, 1)
    assert state(case) == waiting
    # Another organisation's TEST update moves their case, not ours.
    assert pipeline.deploy(world.org_b, "TEST", "3.2") == (0, 1)
    assert state(case) == waiting
    assert place(fresh(other)) == (UB, "opdateret_i_test_afventer_accept")

    # -- Opdateret i TEST. Afventer kunde accept -------------------------------------------
    clock.advance(days=1)
    assert pipeline.deploy(world.org_a, "TEST", "3.1.2") == (0, 1)
    case = fresh(case)
    assert place(case) == (UB, "opdateret_i_test_afventer_accept")
    assert (case.turn, team(case)) == ("customer", "support")
    moved = last_move(case)
    assert (moved.actor_kind, moved.data["transition"]) == ("system", "updated_in_test")
    assert moved.data["cause"]["environment"] == "TEST"
    assert moved.data["cause"]["version"] == "3.1.2"
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.label == "Under behandling, Opdateret i TEST. Afventer kunde accept"
    assert {(a.key, a.label) for a in step.actions} == {
        ("accept_in_test", "Accepter rettelsen i TEST"),
        ("reject_in_test", "Afvis rettelsen i TEST"),
    }
    assert step.timer is None  # the case is not closed here; production comes next

    # A colleague of the reporter tries the fix in TEST and accepts it on the case.
    clock.advance(days=2)
    services.ticket_transition(actor=amir, ticket=case, transition="accept_in_test")
    case = fresh(case)
    assert place(case) == (UB, "opdateret_i_test_accepteret")
    assert case.category == "open" and case.closed_at is None
    assert last_move(case).actor == amir
    # Production already runs 3.2, which carries the fix: the worker moves the case on.

    # -- Opdateret i PROD. Afventer kunde accept -------------------------------------------
    clock.advance(minutes=1)
    updated_at = clock()
    assert run_once() == (0, 1)
    case = fresh(case)
    assert place(case) == (UB, "opdateret_i_prod_afventer_accept")
    assert (case.turn, case.status_entered_at) == ("customer", updated_at)
    assert last_move(case).data["cause"]["environment"] == "PROD"
    assert place(fresh(other)) == (UB, "opdateret_i_test_afventer_accept")  # B: no PROD
    timer = TicketTimer.objects.get(ticket=case)
    assert (timer.timer, timer.transition) == ("prod_close", "prod_timeout")
    assert timer.due_at == updated_at + EIGHT_DAYS
    assert timer.ticket_version == case.version

    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.label == "Under behandling, Opdateret i PROD. Afventer kunde accept"
    assert step.turn == "customer"
    assert {(a.key, a.label) for a in step.actions} == {
        ("accept_in_prod", "Accepter og luk sagen"),
        ("reject_in_prod", "Afvis rettelsen i PROD"),
    }
    assert step.timer is not None and step.timer.due_at == updated_at + EIGHT_DAYS
    assert step.timer.notice == "Hører vi ikke fra dig, lukker vi sagen den {date}."
    assert step.timer.target == "Lukket, Normal"

    # The 8 days count from the update itself: a staff comment does not push them.
    clock.advance(days=3)
    services.comment_add(actor=agent, ticket=case, body="Virker rettelsen hos jer?")
    assert TicketTimer.objects.get(ticket=case).due_at == updated_at + EIGHT_DAYS

    # The customer stays silent. A moment before the 8 days are up only the reminder
    # (two days ahead) is written ...
    clock.set(updated_at + EIGHT_DAYS - timedelta(seconds=1))
    assert run_once() == (0, 1)
    assert case.events.filter(kind="timer_warning").count() == 1
    assert place(fresh(case)) == (UB, "opdateret_i_prod_afventer_accept")
    assert not system_moves(case).filter(data__transition="prod_timeout").exists()

    # ... and at the due time the worker closes the case, without calling it accepted.
    clock.advance(seconds=1)
    assert run_once() == (1, 0)
    case = fresh(case)
    assert place(case) == ("lukket", "normal")
    assert (case.category, case.turn, case.closed_at) == ("closed", "nobody", clock())
    timed_out = system_moves(case).filter(data__transition="prod_timeout")
    assert timed_out.count() == 1
    assert timed_out.get().data["cause"]["timer"] == "prod_close"
    assert not TicketTimer.objects.filter(ticket=case).exists()
    assert run_once() == (0, 0)  # fired once, never again
    assert system_moves(case).filter(data__transition="prod_timeout").count() == 1
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert (step.label, step.actions, step.timer) == ("Lukket, Normal", (), None)

    # -- Genåbnet: the problem comes back --------------------------------------------------
    clock.advance(days=4)
    services.comment_add(actor=alice, ticket=case, body="Fejlen er kommet igen i dag.")
    case = fresh(case)
    assert place(case) == ("lukket", "normal")  # writing does not reopen it by itself
    closed = state(case)
    refused("role", actor=alice, ticket=case, transition="reopen", comment="Åbn den igen.")
    assert state(case) == closed
    error = refused("requirement", actor=agent, ticket=case, transition="reopen")
    assert error.missing == ("comment",)
    assert state(case) == closed

    clock.advance(hours=1)
    services.ticket_transition(
        actor=agent, ticket=case, transition="reopen", comment="Fejlen er opstået igen."
    )
    case = fresh(case)
    assert place(case) == ("genaabnet", "normal")
    assert case.flags == ["urgent"]  # HASTER inside the company
    assert (case.priority, case.cycle, team(case)) == ("hoj", 2, "support")
    assert "fix_version" not in case.fields  # the old fix did not solve it
    assert (case.category, case.closed_at) == ("open", None)
    reopened = last_move(case)
    assert reopened.data["priority"] == ["normal", "hoj"]
    assert reopened.data["cycle"] == 2
    assert reopened.data["fields"] == {"fix_version": ["3.1.2", None]}
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert (step.label, step.turn) == ("Genåbnet, Normal", "supplier")
    assert "urgent" not in step.flags  # HASTER is internal: the customer never sees it
    assert "urgent" in next_step_for(user=agent, ticket=case, lang="da").flags

    # -- Afventer godkendelse fra kunde: 8 days from the last case entry --------------------
    clock.advance(hours=2)
    services.ticket_transition(actor=agent, ticket=case, transition="start_work")
    assert place(fresh(case)) == (UB, "normal") and fresh(case).flags == ["urgent"]
    clock.advance(days=1)
    asked_at = clock()
    services.ticket_transition(
        actor=agent,
        ticket=case,
        transition="ask_for_approval",
        comment="Indstillingen for afdeling 12 er rettet.",
    )
    case = fresh(case)
    assert (place(case), case.turn) == ((UB, "afventer_godkendelse_fra_kunde"), "customer")
    timer = TicketTimer.objects.get(ticket=case)
    assert (timer.timer, timer.due_at) == ("approval_close", asked_at + EIGHT_DAYS)

    # The customer is refused every staff move here, and the case stays as it is.
    waiting = state(case)
    for transition, extra in (
        ("start_work", {}),
        ("close", {"comment": "Luk den bare."}),
        ("to_development", {}),
        ("approval_timeout", {}),
    ):
        refused("role", actor=alice, ticket=case, transition=transition, **extra)
        assert state(case) == waiting, transition

    # A staff comment is case activity: the 8 days start again.
    clock.advance(days=3)
    services.comment_add(actor=agent, ticket=case, body="Har I nået at se på det?")
    assert TicketTimer.objects.get(ticket=case).due_at == clock() + EIGHT_DAYS

    # The customer writes back: the clock waits until the supplier has answered.
    clock.advance(days=2)
    services.comment_add(actor=alice, ticket=case, body="Vi tester først i næste uge.")
    case = fresh(case)
    assert place(case) == (UB, "afventer_godkendelse_fra_kunde")
    assert not TicketTimer.objects.filter(ticket=case).exists()
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.reply_pending and step.timer is None
    clock.advance(days=30)
    assert run_once() == (0, 0)
    assert place(fresh(case)) == (UB, "afventer_godkendelse_fra_kunde")

    clock.advance(hours=1)
    answered_at = clock()
    services.comment_add(actor=agent, ticket=case, body="Det er helt fint, vi venter.")
    case = fresh(case)
    timer = TicketTimer.objects.get(ticket=case)
    assert timer.due_at == answered_at + EIGHT_DAYS
    assert timer.ticket_version == case.version

    # What the customer sees, in Danish: both levels, their move, their buttons, the date.
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.label == "Under behandling, Afventer godkendelse fra kunde"
    assert (step.status_label, step.sub_label) == (
        "Under behandling",
        "Afventer godkendelse fra kunde",
    )
    assert step.turn == "customer" and not step.reply_pending
    assert {(a.key, a.label) for a in step.actions} == {
        ("approve", "Godkend løsningen og luk sagen"),
        ("not_approved", "Ikke godkendt"),
    }
    not_approved = next(a for a in step.actions if a.key == "not_approved")
    assert not_approved.needs == ("comment",)
    assert not_approved.prompt == "Hvad mangler der stadig?"
    assert step.timer.due_at == answered_at + EIGHT_DAYS
    assert step.timer.notice.startswith("Godkender du ikke løsningen")
    assert step.timer.notice.format(date="12.01.2027").endswith("den 12.01.2027.")
    assert step.timer.target == "Lukket, Normal"
    # Staff see their own moves, not the customer's buttons only.
    staff_keys = {a.key for a in next_step_for(user=agent, ticket=case, lang="da").actions}
    assert {"approve", "not_approved", "start_work", "close"} <= staff_keys
    assert "approval_timeout" not in staff_keys

    # Nobody answers: two days ahead the reminder is written, then the worker closes the
    # case at the due time, once.
    clock.set(answered_at + EIGHT_DAYS - timedelta(minutes=1))
    assert run_once() == (0, 1)
    assert run_once() == (0, 0)
    clock.set(answered_at + EIGHT_DAYS)
    assert run_once() == (1, 0)
    case = fresh(case)
    assert (place(case), case.cycle) == (("lukket", "normal"), 2)
    assert case.flags == ["urgent"]
    timed_out = system_moves(case).filter(data__transition="approval_timeout")
    assert timed_out.count() == 1
    assert timed_out.get().data["cause"] == {
        "timer": "approval_close",
        "due_at": (answered_at + EIGHT_DAYS).isoformat(),
    }
    # The system's own moves: the answer, the TEST and PROD updates and the two closes.
    assert [e.data["transition"] for e in system_moves(case)] == [
        "customer_answered",
        "updated_in_test",
        "updated_in_prod",
        "prod_timeout",
        "approval_timeout",
    ]

    # The whole story is in the customer's history, in order.
    seen = ticket_get_for_actor(user=alice, key="tms-1")
    moves = [
        e.data["transition"] for e in history_for(user=alice, ticket=seen) if e.kind == "transition"
    ]
    assert moves == [
        "receive",
        "start_work",
        "to_development",
        "to_operations",
        "change_sub_status",
        "to_support",
        "ask_for_info",
        "customer_answered",
        "to_development",
        "await_update",
        "updated_in_test",
        "accept_in_test",
        "updated_in_prod",
        "prod_timeout",
        "reopen",
        "start_work",
        "ask_for_approval",
        "approval_timeout",
    ]

    # -- The other organisation: rejected in TEST, then a second round -----------------------
    # Bob's case has waited in TEST since 3.2 reached them. He tries it and rejects it.
    clock.advance(days=1)
    services.ticket_transition(
        actor=bob, ticket=other, transition="reject_in_test", comment="Fejlen ses stadig hos B."
    )
    other = fresh(other)
    assert place(other) == (UB, "opdateret_i_test_ikke_accepteret")
    assert "fix_version" not in other.fields  # the rejected fix no longer counts
    # The next TEST deployment at B carries nothing of theirs any more: nothing moves.
    assert pipeline.deploy(world.org_b, "TEST", "3.2", pipeline_id="b-test-32-again") == (0, 1)
    assert place(fresh(other)) == (UB, "opdateret_i_test_ikke_accepteret")

    # Round 2: development fixes it in 3.3, with a note for customers, through the API.
    services.ticket_transition(actor=agent, ticket=other, transition="start_work")
    fixed = Api(agent).post(
        f"tickets/{other.key}/fixes",
        {"version": "3.3", "notes": {"da": "Kørslen klarer nu afdelinger med ændret opsætning."}},
    )
    assert fixed.status_code == 201, fixed.content
    services.ticket_transition(actor=agent, ticket=other, transition="await_update")
    assert place(fresh(other)) == (UB, "afventer_distribution_start")
    clock.advance(days=2)
    assert pipeline.deploy(world.org_b, "TEST", "3.3") == (0, 1)
    assert place(fresh(other)) == (UB, "opdateret_i_test_afventer_accept")
    services.ticket_transition(actor=bob, ticket=other, transition="accept_in_test")
    clock.advance(days=1)
    assert pipeline.deploy(world.org_b, "PROD", "3.3") == (0, 1)
    assert place(fresh(other)) == (UB, "opdateret_i_prod_afventer_accept")
    services.ticket_transition(actor=bob, ticket=other, transition="accept_in_prod")
    assert fresh(other).category == "closed"
    assert [
        (a.tier, a.cycle, a.round, a.verdict, a.reason)
        for a in Acceptance.objects.filter(ticket=other)
    ] == [
        ("TEST", 1, 1, "rejected", "Fejlen ses stadig hos B."),
        ("TEST", 1, 2, "accepted", ""),
        ("PROD", 1, 1, "accepted", ""),
    ]
    # Alice's case: accepted in TEST; the timer that closed it in PROD gave no verdict.
    assert [a.tier for a in Acceptance.objects.filter(ticket=case)] == ["TEST"]

    # What's new in 3.3, as each customer sees it: Bob reads his case and both his
    # environments; 3.3 is neither out nor at Alice's organisation, so for her it is not there.
    news = Api(bob).get(f"desks/{desk.pk}/releases/3.3/whats-new?lang=da").json()
    assert news["fixes"] == ["Kørslen klarer nu afdelinger med ændret opsætning."]
    assert news["cases"] == [other.key]
    assert [(r["environment"], r["at"] is not None) for r in news["reached"]] == [
        ("TEST", True),
        ("PROD", True),
    ]
    assert Api(alice).get(f"desks/{desk.pk}/releases/3.3/whats-new?lang=da").status_code == 404
    assert [e["organisation"] for e in Api(alice).get(f"desks/{desk.pk}/environments").json()] == [
        world.org_a.pk,
        world.org_a.pk,
    ]


# -- change requests: the offer is a quote ---------------------------------------------------


def test_a_change_request_is_quoted_declined_quoted_again_and_accepted(world, clock, db):
    from casedesk.common.errors import InvalidInput
    from casedesk.quotes import selectors as quote_selectors
    from casedesk.quotes import services as quotes
    from casedesk.quotes.errors import QuoteRefused

    desk = make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    alice, anna, agent = world.alice, world.anna, world.agent
    case = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Eksport af fravær til lønsystemet",
        description="Vi vil gerne have fravær med i eksporten.",
        type="aendringsoenske",
    )
    services.ticket_transition(actor=agent, ticket=case, transition="receive", assignee=agent)
    services.ticket_transition(actor=agent, ticket=case, transition="start_work")
    services.ticket_transition(actor=agent, ticket=case, transition="register_change_request")
    case = fresh(case)
    assert (place(case), team(case)) == ((UB, "aendringsoenske_fra_kunde"), "development")

    # The offer is a quote, sent from the case: a plain "send offer" is not enough.
    before = state(case)
    refused("beside", actor=agent, ticket=case, transition="send_offer")
    assert state(case) == before
    first = quotes.quote_send(
        actor=agent,
        ticket=case,
        hours="24",
        text="Fravær kommer med i eksporten; 24 timers udvikling, levering i næste version.",
        valid_until=(now() + timedelta(days=14)).date(),
    )
    case = fresh(case)
    assert place(case) == (UB, "aendringsoenske_tilbud_sendt")
    assert (case.turn, first.state, first.number, first.sent_by) == ("customer", "sent", 1, agent)
    sent = TicketEvent.objects.get(ticket=case, kind="quote_sent")
    assert sent.data["hours"] == "24.00" and sent.data["withdrew"] == []
    # Everyone in the organisation sees it; only an approver may answer it.
    assert [v.state for v in quote_selectors.quotes_for(user=alice, ticket=case)] == ["sent"]
    step = next_step_for(user=anna, ticket=case, lang="da")
    assert {a.key for a in step.actions} == {"accept_offer", "decline_offer"}

    # Anna declines: the decline asks for a reason, and the case goes back to the request.
    clock.advance(days=2)
    with pytest.raises(InvalidInput):
        quotes.quote_decline(actor=anna, ticket=case, quote_id=first.pk, reason="")
    quotes.quote_decline(
        actor=anna, ticket=case, quote_id=first.pk, reason="For dyrt i år; kan det gøres enklere?"
    )
    case, first = fresh(case), first.__class__.objects.get(pk=first.pk)
    assert place(case) == (UB, "aendringsoenske_fra_kunde")
    assert (first.state, first.decided_by, first.reason) == (
        "declined",
        anna,
        "For dyrt i år; kan det gøres enklere?",
    )
    assert last_move(case).data["transition"] == "decline_offer"

    # A new quote, then a revision while it waits: the revision withdraws it.
    second = quotes.quote_send(
        actor=agent,
        ticket=case,
        amount="9500",
        currency="dkk",
        text="En enklere udgave: kun sygefravær.",
        valid_until=(now() + timedelta(days=10)).date(),
    )
    third = quotes.quote_send(
        actor=agent,
        ticket=case,
        amount="8900",
        currency="DKK",
        text="En enklere udgave: kun sygefravær, med rabat.",
        valid_until=(now() + timedelta(days=10)).date(),
    )
    second = second.__class__.objects.get(pk=second.pk)
    assert (second.state, second.superseded_by_id, third.number) == ("withdrawn", third.pk, 3)
    assert (third.currency, str(third.amount)) == ("DKK", "8900.00")
    with pytest.raises(QuoteRefused) as closed:
        quotes.quote_accept(actor=anna, ticket=case, quote_id=second.pk)
    assert closed.value.code == "quote.closed"

    # Anna accepts the open one; the developers plan the change.
    clock.advance(days=1)
    quotes.quote_accept(actor=anna, ticket=case, quote_id=third.pk)
    case, third = fresh(case), third.__class__.objects.get(pk=third.pk)
    assert (place(case), team(case)) == ((UB, "aendringsoenske_tilbud_accepteret"), "development")
    assert (third.state, third.decided_by, third.on_behalf) == ("accepted", anna, False)
    kinds = list(
        TicketEvent.objects.filter(ticket=case, kind__startswith="quote_").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["quote_sent", "quote_declined", "quote_sent", "quote_sent", "quote_accepted"]


def test_an_expired_quote_cannot_be_accepted_and_shows_as_expired(world, clock, db):
    from casedesk.quotes import selectors as quote_selectors
    from casedesk.quotes import services as quotes
    from casedesk.quotes.errors import QuoteRefused

    desk = make_desk("tms", "TMS", [world.org_a], {world.agent: "agent"})
    agent, anna = world.agent, world.anna
    case = services.ticket_create(actor=world.alice, desk=desk, title="Ny rapport")
    services.ticket_transition(actor=agent, ticket=case, transition="receive", assignee=agent)
    services.ticket_transition(actor=agent, ticket=case, transition="register_change_request")
    quote = quotes.quote_send(
        actor=agent, ticket=case, hours="3", text="Tre timer.", valid_until=now().date()
    )
    clock.advance(days=1)
    assert [v.state for v in quote_selectors.quotes_for(user=anna, ticket=case)] == ["expired"]
    before = state(case)
    with pytest.raises(QuoteRefused) as caught:
        quotes.quote_accept(actor=anna, ticket=case, quote_id=quote.pk)
    assert caught.value.code == "quote.expired"
    assert caught.value.status == 409
    assert state(case) == before
    # a fresh quote can be sent over it, and accepted
    newer = quotes.quote_send(
        actor=agent,
        ticket=case,
        hours="3",
        text="Tre timer, igen.",
        valid_until=now().date() + timedelta(days=7),
    )
    quotes.quote_accept(actor=anna, ticket=case, quote_id=newer.pk)
    assert place(fresh(case)) == (UB, "aendringsoenske_tilbud_accepteret")
