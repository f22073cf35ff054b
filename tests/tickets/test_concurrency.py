"""Races on PostgreSQL, where row locks are real (SECURITY-TESTS group I).

Each race starts its contenders together behind a barrier, in their own threads and
database connections, and is repeated so that the unlucky orderings happen too.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from casedesk.common.errors import StaleTicket, TransitionRefused
from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket, TicketEvent, TicketTimer
from casedesk.tickets.timers import timers_fire_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*contenders):
    """Run the callables at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(contenders))
    results: list[object] = [None] * len(contenders)

    def run(index, fn):
        try:
            barrier.wait(timeout=10)
            results[index] = fn()
        except Exception as exc:  # collected for the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def resolved_ticket(world, title="race"):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title=title)
    services.ticket_transition(
        actor=world.agent, ticket=t, transition="start", assignee=world.agent
    )
    return services.ticket_transition(
        actor=world.agent, ticket=t, transition="resolve", comment="Fixed"
    )


def test_two_customers_answer_at_once_one_wins_the_other_gets_a_conflict(world):
    for trial in range(25):
        t = resolved_ticket(world, f"approve-vs-return {trial}")
        version = t.version
        results = race(
            lambda t=t, version=version: services.ticket_transition(
                actor=world.alice, ticket=t, transition="confirm", expected_version=version
            ),
            lambda t=t, version=version: services.ticket_transition(
                actor=world.anna,
                ticket=t,
                transition="reopen",
                comment="Not fixed",
                expected_version=version,
            ),
        )
        wins = [r for r in results if isinstance(r, Ticket)]
        losses = [r for r in results if isinstance(r, StaleTicket)]
        assert (len(wins), len(losses)) == (1, 1), results
        t.refresh_from_db()
        assert t.status == wins[0].status and t.version == version + 1
        moves = TicketEvent.objects.filter(
            ticket=t, kind="transition", data__transition__in=["confirm", "reopen"]
        )
        assert moves.count() == 1
        # the loser's comment did not survive half-way
        assert Comment.objects.filter(ticket=t, body="Not fixed").count() == (
            1 if t.status == "open" else 0
        )


def test_without_versions_the_second_move_is_refused_by_the_workflow(world):
    t = resolved_ticket(world)
    results = race(
        lambda: services.ticket_transition(actor=world.alice, ticket=t, transition="confirm"),
        lambda: services.ticket_transition(actor=world.anna, ticket=t, transition="confirm"),
    )
    assert sorted(type(r).__name__ for r in results) == ["Ticket", "TransitionRefused"]
    assert next(r for r in results if isinstance(r, TransitionRefused)).reason == "wrong_status"


def test_twenty_agents_take_one_ticket(world):
    from casedesk.desks.models import StaffMembership
    from tests.conftest import make_staff

    agents = [make_staff(f"taker{i}") for i in range(20)]
    for agent in agents:
        StaffMembership.objects.create(desk=world.desk, user=agent, role="agent")
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="take me")
    results = race(
        *[
            (
                lambda a=a: services.ticket_assign(
                    actor=a, ticket=t, assignee=a, expected_version=t.version
                )
            )
            for a in agents
        ]
    )
    assert sum(isinstance(r, Ticket) for r in results) == 1
    assert sum(isinstance(r, StaleTicket) for r in results) == 19
    assert TicketEvent.objects.filter(ticket=t, kind="assigned").count() == 1


def test_concurrent_creation_gives_unique_gapless_keys(world):
    def burst(user):
        return [
            services.ticket_create(actor=user, desk=world.desk, title="burst").number
            for _ in range(25)
        ]

    results = race(
        *[
            (lambda u=u: burst(u))
            for u in (
                world.alice,
                world.amir,
                world.anna,
                world.ada,
                world.bob,
                world.alice,
                world.bob,
                world.amir,
            )
        ]
    )
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == list(range(1, 201))


def test_several_workers_fire_each_timer_exactly_once(world, clock):
    tickets = [resolved_ticket(world, f"t{i}") for i in range(150)]
    clock.advance(days=8)
    results = race(*[timers_fire_due for _ in range(4)], lambda: timers_fire_due(batch=7))
    assert sum(results) == 150, results
    assert not TicketTimer.objects.exists()
    for t in tickets:
        fired = TicketEvent.objects.filter(ticket=t, kind="transition", actor_kind="system")
        assert fired.count() == 1
    assert timers_fire_due() == 0  # a second full run changes nothing


def test_timer_racing_a_customer_reply_never_loses_the_reply(world, clock):
    for trial in range(20):
        t = resolved_ticket(world, f"reply-race {trial}")
        clock.advance(days=8)
        body = f"wait, it is back ({trial})"
        results = race(
            timers_fire_due,
            lambda t=t, body=body: services.comment_add(actor=world.alice, ticket=t, body=body),
        )
        assert isinstance(results[1], Comment), results
        t.refresh_from_db()
        assert Comment.objects.filter(ticket=t, body=body).count() == 1
        assert t.awaiting_reply_since is not None  # staff see the reply, closed or not
        assert (
            TicketEvent.objects.filter(ticket=t, kind="transition", actor_kind="system").count()
            <= 1
        )


def test_marking_two_tickets_duplicates_of_each_other_at_once(world):
    from casedesk.common.errors import InvalidInput
    from casedesk.tickets.models import TicketLink

    for trial in range(15):
        a = services.ticket_create(actor=world.alice, desk=world.desk, title=f"a{trial}")
        b = services.ticket_create(actor=world.amir, desk=world.desk, title=f"b{trial}")
        results = race(
            lambda a=a, b=b: services.ticket_mark_duplicate(
                actor=world.agent, ticket=a, original=b
            ),
            lambda a=a, b=b: services.ticket_mark_duplicate(actor=world.lead, ticket=b, original=a),
        )
        assert sorted(type(r).__name__ for r in results) == ["InvalidInput", "Ticket"], results
        assert isinstance(next(r for r in results if not isinstance(r, Ticket)), InvalidInput)
        links = TicketLink.objects.filter(source__in=(a, b), kind="duplicate_of")
        assert links.count() == 1
        survivor = links.get().target
        survivor.refresh_from_db()
        assert survivor.category not in ("closed", "cancelled")  # never both closed


def test_mixed_writers_never_deadlock_or_lose_a_write(world):
    """Eight writers change four tickets in random order: comments, notes, moves,
    assignments, links. Only domain refusals may reach them; every comment survives."""
    import random

    tickets = [
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"m{i}") for i in range(4)
    ]
    actors = [world.agent, world.lead, world.alice, world.amir]
    written: list[str] = []
    lock = threading.Lock()

    def writer(seed: int):
        rng = random.Random(seed)
        errors = []
        for step in range(25):
            t = rng.choice(tickets)
            actor = rng.choice(actors)
            try:
                choice = rng.randrange(5)
                if choice == 0:
                    body = f"w{seed}-{step}"
                    services.comment_add(actor=actor, ticket=t, body=body)
                    with lock:
                        written.append(body)
                elif choice == 1:
                    services.comment_add(actor=world.agent, ticket=t, body="note", internal=True)
                elif choice == 2:
                    move = rng.choice(["start", "resolve", "reopen", "ask_customer", "confirm"])
                    services.ticket_transition(
                        actor=actor,
                        ticket=t,
                        transition=move,
                        comment="c",
                        assignee=world.agent if move == "start" else None,
                    )
                elif choice == 3:
                    services.ticket_assign(
                        actor=world.lead, ticket=t, assignee=rng.choice([world.agent, world.lead])
                    )
                else:
                    other = rng.choice([x for x in tickets if x.pk != t.pk])
                    services.ticket_link(actor=world.agent, ticket=t, other=other)
            except (TransitionRefused, StaleTicket) as exc:
                errors.append(type(exc).__name__)
            except Exception as exc:  # a deadlock or anything else unexpected
                return exc
        return errors

    results = race(*[(lambda s=s: writer(s)) for s in range(8)])
    unexpected = [r for r in results if isinstance(r, Exception)]
    assert not unexpected, unexpected
    assert Comment.objects.filter(body__in=written).count() == len(written)
    for t in tickets:
        t.refresh_from_db()
        last_move = (
            TicketEvent.objects.filter(ticket=t, kind="transition").order_by("at", "id").last()
        )
        if last_move is not None:
            assert last_move.data["to"]["status"] == t.status
