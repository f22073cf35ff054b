"""One write path: every way of changing a ticket ends in the same unit of work, and what
the engine decides is exactly what is stored."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casedesk.desks.models import StaffMembership
from casedesk.desks.services import desk_create, workflow_store
from casedesk.tickets import services
from casedesk.tickets.bridge import actor_for, snapshot
from casedesk.tickets.models import Ticket, TicketEvent
from casedesk.workflow import Given, Outcome, after, decide, options
from tests.conftest import make_desk
from tests.helpers import fresh

PICK_UP_ON_ASSIGN = """
workflow: pick_up_on_assign
version: 1
name: {en: Picked up when assigned}
languages: [en]
types:
  task: {label: {en: Task}}
priorities:
  normal: {label: {en: Normal}, default: true}
statuses:
  new: {initial: true, category: new, turn: supplier, label: {en: New}, explain: {en: New.}}
  triage: {category: open, turn: supplier, label: {en: Triage}, explain: {en: Sorting.}}
  working: {category: open, turn: supplier, label: {en: Working}, explain: {en: Working.}}
  done: {category: closed, turn: nobody, label: {en: Done}, explain: {en: Done.}}
transitions:
  triage:
    label: {en: Triage}
    from: [new]
    to: triage
    by: [staff]
  triage_to:
    label: {en: Triage for someone}
    from: [new]
    to: triage
    by: [staff]
    requires: [assignee]
  pick_up:
    label: {en: Pick up}
    from: [triage]
    to: working
    by: [system]
  finish:
    label: {en: Finish}
    from: [triage, working]
    to: done
    by: [staff]
events:
  - on: assigned
    in: [triage]
    transition: pick_up
"""


@pytest.fixture
def pick_up_desk(world):
    version = workflow_store(source=PICK_UP_ON_ASSIGN, origin="test")
    desk = desk_create(name="Pick-up desk", key_prefix="PU", workflow=version)
    desk.organisations.set([world.org_a])
    StaffMembership.objects.create(desk=desk, user=world.agent, role="agent")
    return desk


def _pick_ups(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(
        ticket=ticket, kind="transition", data__transition="pick_up"
    ).count()


def test_assigning_through_a_transition_fires_the_assigned_event_like_assigning(
    world, pick_up_desk
):
    by_transition = services.ticket_create(actor=world.alice, desk=pick_up_desk, title="a")
    services.ticket_transition(
        actor=world.agent, ticket=by_transition, transition="triage_to", assignee=world.agent
    )
    by_assigning = services.ticket_create(actor=world.alice, desk=pick_up_desk, title="b")
    services.ticket_transition(actor=world.agent, ticket=by_assigning, transition="triage")
    services.ticket_assign(actor=world.agent, ticket=by_assigning, assignee=world.agent)

    for ticket in (by_transition, by_assigning):
        ticket = fresh(ticket)
        assert (ticket.status, ticket.assignee_id) == ("working", world.agent.pk)
        assert _pick_ups(ticket) == 1
        assigned = TicketEvent.objects.get(ticket=ticket, kind="assigned")
        assert assigned.data["assignee"] == [None, world.agent.pk]


def test_the_assigned_event_fires_once_per_new_assignee(world, pick_up_desk):
    ticket = services.ticket_create(actor=world.alice, desk=pick_up_desk, title="a")
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="triage")
    # assigned before reaching triage: nothing to pick up, and no event is replayed later
    assert fresh(ticket).status == "triage"
    services.comment_add(actor=world.agent, ticket=ticket, body="still here")
    assert fresh(ticket).status == "triage" and _pick_ups(ticket) == 0


def test_the_system_s_own_moves_go_through_the_same_unit_of_work(world, pick_up_desk):
    ticket = services.ticket_create(actor=world.alice, desk=pick_up_desk, title="a")
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="triage")
    before = fresh(ticket)
    moved = services.ticket_system_transition(
        ticket_id=ticket.pk, transition="pick_up", cause={"test": True}
    )
    assert (moved.status, moved.version) == ("working", before.version + 1)
    entry = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert (entry.kind, entry.actor_kind, entry.channel) == ("transition", "system", "system")
    assert entry.data["cause"] == {"test": True}


def test_an_event_applies_only_while_its_condition_holds_under_the_lock(world, pick_up_desk):
    ticket = services.ticket_create(actor=world.alice, desk=pick_up_desk, title="a")
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="triage")
    version = fresh(ticket).version
    made = services.ticket_fire_event(
        ticket_id=ticket.pk, event="assigned", applies=lambda t: False
    )
    assert made is None and fresh(ticket).version == version
    made = services.ticket_fire_event(ticket_id=ticket.pk, event="assigned")
    assert made == "pick_up" and fresh(ticket).status == "working"


# -- what the engine decides is what is stored ------------------------------------------

_DESKS = itertools.count(1)
PRESETS = ["default", "tms", "assu", "twovalue", "sda", "servisni_list"]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(preset=st.sampled_from(PRESETS), picks=st.lists(st.integers(0, 50), max_size=8))
@pytest.mark.django_db
def test_a_ticket_after_a_service_move_is_the_engine_s_after(world, preset, picks):
    """Walk random allowed moves through the services; after each, the stored ticket's
    snapshot is exactly `after(snapshot before, outcome)` as the engine computes it."""
    prefix = f"W{next(_DESKS)}"
    desk = make_desk(preset, prefix, [world.org_a], {world.agent: "agent"})
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="walk")
    wf = desk.workflow.workflow
    for pick in picks:
        ticket = fresh(ticket)
        people = [(world.agent, "staff"), (world.alice, "customer")]
        user, _ = people[pick % 2]
        actor = actor_for(user, desk)
        before = snapshot(ticket)
        # closing as a duplicate is the duplicate service's move, not a plain transition
        plain = wf.duplicates.transition if wf.duplicates is not None else None
        offered = [
            o
            for o in options(wf, before, actor)
            if not o.needs
            and o.transition.key != plain
            # a quote's moves are the quote services', with the quote they send or answer
            and not any(e.kind == "quote" for e in o.transition.effects)
        ]
        if not offered:
            continue
        option = offered[pick % len(offered)]
        key = option.transition.key
        now = ticket.updated_at  # the frozen clock: every move happens at the same instant
        outcome = decide(wf, before, actor, key, Given(), now)
        assert isinstance(outcome, Outcome)
        services.ticket_transition(actor=user, ticket=ticket, transition=key)
        stored = snapshot(fresh(ticket))
        expected = after(before, outcome, actor=actor, now=now)
        # what happens after the move (timers, events the move sets off) is not the move's
        if stored.status == expected.status and stored.sub_status == expected.sub_status:
            assert stored == expected
