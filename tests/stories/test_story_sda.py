"""The Service Desk Autonik story (seed 003) told through the ticket services.

A Danish automation company runs a Jira-style service desk: customers log in and register
cases, support registers the ones that come in by phone or mail, and every case gets a
number starting with SDA. The portal speaks Swedish ("Väntar på support", "Pågående",
"Löst"), the final status is "Lukket" in Danish. Customers may mark a case solved or cancel
it themselves, and everyone in the customer's organisation follows its cases.
"""

from __future__ import annotations

import pytest

from casedesk.common.errors import NotFound, TransitionRefused
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent, TicketTimer
from casedesk.tickets.selectors import (
    history_for,
    next_step_for,
    ticket_get_for_actor,
    ticket_list_for_actor,
)
from tests.conftest import make_desk
from tests.helpers import fresh, state


@pytest.fixture
def desk(world):
    return make_desk("sda", "SDA", [world.org_a, world.org_b], {world.agent: "agent"})


@pytest.fixture
def supporter(world):
    # The Autonik employee who answers the phone and works on cases.
    return world.agent


def refused(**kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        services.ticket_transition(**kwargs)
    return caught.value


def labels(user, ticket: Ticket, lang: str) -> dict[str, str]:
    return {a.key: a.label for a in next_step_for(user=user, ticket=ticket, lang=lang).actions}


def test_a_case_from_the_portal_to_lukket(world, desk, supporter, clock):
    alice = world.alice

    # Alice logs in to the service desk and registers a case through the web form. It gets
    # the first SDA number and waits in the support queue.
    case = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Larmet från pump 3 går inte att kvittera",
        description="Sedan uppdateringen i går kvarstår larmet på panelen.",
    )
    case = fresh(case)
    assert case.key == "SDA-1"
    assert (case.reporter, case.created_by, case.channel) == (alice, alice, "web")
    assert (case.status, case.turn, case.category) == ("waiting_for_support", "supplier", "new")
    step = next_step_for(user=alice, ticket=case, lang="sv")
    assert (step.label, step.turn) == ("Väntar på support", "supplier")
    assert next_step_for(user=alice, ticket=case, lang="da").label == "Venter på support"
    # Even while support has it, she could solve or cancel it herself.
    assert labels(alice, case, "sv") == {
        "mark_solved": "Markera som löst",
        "cancel": "Avbryt ärendet",
    }

    # A supporter picks it up and becomes the one responsible for it.
    clock.advance(minutes=20)
    services.ticket_transition(actor=supporter, ticket=case, transition="start")
    case = fresh(case)
    assert (case.status, case.assignee) == ("in_progress", supporter)
    assert next_step_for(user=alice, ticket=case, lang="sv").label == "Pågående"
    assert next_step_for(user=alice, ticket=case, lang="da").label == "I gang"

    # Support needs to know the controller's firmware and asks in the case.
    services.ticket_transition(
        actor=supporter,
        ticket=case,
        transition="ask_customer",
        comment="Vilken firmwareversion kör styrenheten?",
    )
    case = fresh(case)
    assert (case.status, case.turn) == ("waiting_for_customer", "customer")
    step = next_step_for(user=alice, ticket=case, lang="da")
    assert step.label == "Venter på kunde"
    assert [(e.event, e.target) for e in step.events] == [
        ("customer_commented", "Venter på support")
    ]

    # Her answer puts the case back in the support queue by itself.
    clock.advance(hours=2)
    answer = services.comment_add(actor=alice, ticket=case, body="Firmware 2.7.1.")
    case = fresh(case)
    assert (case.status, case.turn) == ("waiting_for_support", "supplier")
    back = TicketEvent.objects.filter(ticket=case, kind="transition").last()
    assert (back.data["transition"], back.actor_kind, back.channel) == (
        "customer_replied",
        "system",
        "system",
    )
    assert back.data["cause"] == {"event": "customer_commented", "comment": answer.pk}

    # Support takes it up again. Before anyone writes back, Alice sees the alarm can be
    # acknowledged after a restart and marks the case solved herself; no comment needed.
    services.ticket_transition(actor=supporter, ticket=case, transition="start")
    clock.advance(hours=1)
    services.ticket_transition(actor=alice, ticket=case, transition="mark_solved")
    case = fresh(case)
    assert (case.status, case.category, case.turn) == ("resolved", "resolved", "customer")
    step = next_step_for(user=alice, ticket=case, lang="sv")
    assert step.label == "Löst"
    assert step.timer is None  # a quiet "Löst" never closes by itself
    assert not TicketTimer.objects.filter(ticket=case).exists()
    assert labels(alice, case, "sv") == {
        "approve": "Godkänn och stäng",
        "reopen": "Det är inte löst",
    }
    assert labels(alice, case, "da") == {"approve": "Godkend og luk", "reopen": "Det er ikke løst"}

    # Three weeks pass; nothing happens on its own.
    clock.advance(days=21)
    assert run_once() == (0, 0)
    assert fresh(case).status == "resolved"

    # Alice approves: the case is closed, "Lukket" in Danish, "Stängd" in Swedish.
    services.ticket_transition(actor=alice, ticket=case, transition="approve")
    case = fresh(case)
    assert (case.status, case.category, case.active, case.closed_at) == (
        "closed",
        "closed",
        False,
        clock(),
    )
    assert next_step_for(user=alice, ticket=case, lang="da").label == "Lukket"
    step = next_step_for(user=alice, ticket=case, lang="sv")
    assert (step.label, step.actions) == ("Stängd", ())
    assert [
        (e.data["transition"], e.actor_kind)
        for e in history_for(user=alice, ticket=case)
        if e.kind == "transition"
    ] == [
        ("start", "staff"),
        ("ask_customer", "staff"),
        ("customer_replied", "system"),
        ("start", "staff"),
        ("mark_solved", "customer"),
        ("approve", "customer"),
    ]


def test_support_registers_a_phone_call_and_the_case_is_reopened(world, desk, supporter, clock):
    amir = world.amir

    # Amir phones during opening hours; the supporter registers the case for him.
    case = services.ticket_create(
        actor=supporter,
        desk=desk,
        title="Frekvensomformer viser fejl F012",
        reporter=amir,
        channel="phone",
    )
    case = fresh(case)
    assert case.key.startswith("SDA-")
    assert (case.reporter, case.created_by, case.organisation, case.channel) == (
        amir,
        supporter,
        world.org_a,
        "phone",
    )
    created = TicketEvent.objects.get(ticket=case, kind="created")
    assert (created.actor, created.actor_kind, created.channel) == (supporter, "staff", "phone")
    assert created.data["reporter"] == amir.pk

    # Support solves it and says how.
    services.ticket_transition(actor=supporter, ticket=case, transition="start")
    services.ticket_transition(
        actor=supporter, ticket=case, transition="resolve", comment="Parameter P1.07 rettet."
    )
    assert fresh(case).status == "resolved"

    # The error comes back. Amir reopens it, and has to tell what is still wrong; the case
    # returns to the support queue as its second round, still with the same supporter.
    clock.advance(days=2)
    before = state(case)
    silent = refused(actor=amir, ticket=case, transition="reopen")
    assert (silent.reason, silent.missing) == ("requirement", ("comment",))
    assert state(case) == before
    services.ticket_transition(
        actor=amir, ticket=case, transition="reopen", comment="F012 kom igen i nat."
    )
    case = fresh(case)
    assert (case.status, case.cycle, case.assignee) == ("waiting_for_support", 2, supporter)
    assert next_step_for(user=amir, ticket=case, lang="da").label == "Venter på support"

    # Second round: a new motor cable fixes it; Amir approves it by phone and the
    # supporter closes the case with his words.
    services.ticket_transition(actor=supporter, ticket=case, transition="start")
    services.ticket_transition(
        actor=supporter, ticket=case, transition="resolve", comment="Motorkabel udskiftet."
    )
    assert refused(actor=supporter, ticket=case, transition="close").missing == ("comment",)
    services.ticket_transition(
        actor=supporter,
        ticket=case,
        transition="close",
        comment="Godkendt af Amir pr. telefon.",
    )
    case = fresh(case)
    assert (case.status, case.cycle) == ("closed", 2)


def test_a_customer_cancels_a_case_with_a_reason(world, desk, supporter, clock):
    alice = world.alice
    case = services.ticket_create(actor=alice, desk=desk, title="Ny användare till portalen")
    services.ticket_transition(actor=supporter, ticket=case, transition="start")

    # She no longer needs it. Cancelling asks why; the portal shows her the question.
    action = next(
        a for a in next_step_for(user=alice, ticket=case, lang="sv").actions if a.key == "cancel"
    )
    assert (action.needs, action.prompt) == (("comment",), "Varför behövs ärendet inte längre?")
    before = state(case)
    silent = refused(actor=alice, ticket=case, transition="cancel")
    assert (silent.reason, silent.missing) == ("requirement", ("comment",))
    assert state(case) == before
    services.ticket_transition(
        actor=alice, ticket=case, transition="cancel", comment="Kollegan har redan fått konto."
    )
    case = fresh(case)
    assert (case.status, case.category, case.active, case.turn) == (
        "cancelled",
        "cancelled",
        False,
        "nobody",
    )
    assert next_step_for(user=alice, ticket=case, lang="sv").label == "Avbruten"
    assert next_step_for(user=alice, ticket=case, lang="da").label == "Annulleret"
    last = TicketEvent.objects.filter(ticket=case, kind="transition").last()
    assert (last.actor, last.data["transition"]) == (alice, "cancel")


def test_the_whole_organisation_follows_its_cases(world, desk, supporter, clock):
    case = services.ticket_create(actor=world.alice, desk=desk, title="Skärmen flimrar")
    bobs = services.ticket_create(actor=world.bob, desk=desk, title="Andra kundens ärende")

    # Everyone of Alice's organisation sees her case, as the confirmations go to all of
    # them; a colleague may also act on it.
    for colleague in (world.amir, world.anna, world.ada):
        assert ticket_get_for_actor(user=colleague, key=case.key.lower()) == case
    assert {r.ticket.key for r in ticket_list_for_actor(user=world.amir)} == {case.key}
    services.ticket_transition(actor=world.amir, ticket=case, transition="mark_solved")
    assert fresh(case).status == "resolved"
    row = next(r for r in ticket_list_for_actor(user=world.amir, lang="sv") if r.ticket == case)
    assert row.status_label == "Löst"

    # A customer of another organisation on the same desk does not see it at all.
    with pytest.raises(NotFound):
        ticket_get_for_actor(user=world.bob, key=case.key)
    assert {r.ticket.key for r in ticket_list_for_actor(user=world.bob)} == {bobs.key}
    before = state(case)
    with pytest.raises(NotFound):
        services.comment_add(actor=world.bob, ticket=case, body="Hej?")
    with pytest.raises(NotFound):
        services.ticket_transition(actor=world.bob, ticket=case, transition="approve")
    assert state(case) == before


def test_support_hours_are_8_to_17_on_weekdays_without_danish_holidays(
    world, desk, supporter, clock
):
    """A case reported on Maundy Thursday afternoon waits for Easter to pass: the clock
    counts only the support hours, and a holiday abolished by law (Store Bededag, from
    2024) is a working day."""
    from datetime import UTC, datetime

    from casedesk.sla.models import CalendarDay, TicketClock
    from casedesk.sla.presets import sla_preset_apply

    clock.set(datetime(2027, 3, 24, 12, 0, tzinfo=UTC))
    sla_preset_apply(actor=world.admin, desk=desk, preset="sda")
    days = set(CalendarDay.objects.values_list("day", flat=True))
    assert datetime(2027, 4, 23).date() not in days  # the old Store Bededag date in 2027
    # Wednesday 24 March 2027, 16:00 in Copenhagen; Thursday 25 March to Monday 29 March
    # (Maundy Thursday, Good Friday, the weekend, Easter Monday) are closed
    clock.set(datetime(2027, 3, 24, 15, 0, tzinfo=UTC))
    case = services.ticket_create(
        actor=world.alice, desk=desk, title="Robot stopped", priority="high"
    )
    first = TicketClock.objects.get(ticket=case, target="first_response")
    # two support hours: 16:00-17:00 on Wednesday, then Tuesday 30 March 08:00-09:00
    assert first.due_at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 30, 6, 30, tzinfo=UTC))
    services.comment_add(actor=supporter, ticket=case, body="Vi kigger på det.")
    assert TicketClock.objects.get(pk=first.pk).met_at == clock()
    run_once()
    assert not TicketEvent.objects.filter(ticket=case, kind="sla_breached").exists()
