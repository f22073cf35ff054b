"""The A.i. Servicedesk for Assu® (seed 001, preset `assu`) told as one story through the
real ticket services: database rows, history and release deliveries run by the worker,
with a clock the test moves by hand.

Support reports a ticket "Opgelost" in one of the document's ways: solved now, or solved
in the coming update. The customer then closes it ("Sluiten") or, when it is not solved
after all, sends it back ("Terug naar actief").
"""

from __future__ import annotations

import pytest

from casedesk.common.errors import NotFound, TransitionRefused
from casedesk.desks.models import Team
from casedesk.ops.worker import run_once
from casedesk.releases.models import Acceptance
from casedesk.releases.services import release_publish
from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket, TicketEvent, TicketTimer
from casedesk.tickets.selectors import (
    comments_for,
    history_for,
    next_step_for,
    ticket_get_for_actor,
)
from tests.api.conftest import Api
from tests.conftest import make_desk
from tests.helpers import fresh, state
from tests.releases.pipeline import Pipeline


def team(ticket: Ticket) -> str:
    return ticket.team.slug if ticket.team_id else ""


def last_move(ticket: Ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket, kind="transition").last()


def refused(reason: str, **kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        services.ticket_transition(**kwargs)
    assert caught.value.reason == reason, caught.value.message
    return caught.value


def sla_breached(ticket: Ticket, now) -> str | None:
    """What the SLA worker will do when the time to resolve is exceeded."""
    return services.ticket_fire_event(ticket_id=ticket.pk, event="sla_breached")


def test_tickets_solved_now_in_the_coming_update_and_sent_back_to_active(world, clock, db):
    desk = make_desk(
        "assu", "ASSU", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    alice, amir, ada, bob = world.alice, world.amir, world.ada, world.bob
    agent, lead = world.agent, world.lead
    # Assu's releases, declared ahead; each customer has a TEST and a PROD environment.
    pipeline = Pipeline(
        lead=lead,
        desk=desk,
        versions={"7": ["7.4.0", "7.4.1", "7.5", "7.6"]},
        orgs=[world.org_a, world.org_b],
    )

    # -- Wachtend op ondersteuning -----------------------------------------------------------
    # The customer reports a problem through the service desk; Support has not looked yet.
    ticket = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Premie wordt verkeerd berekend",
        description="Bij polis 4711 klopt de jaarpremie niet.",
    )
    ticket = fresh(ticket)
    assert ticket.key == "ASSU-1"
    assert (ticket.status, ticket.category, ticket.turn) == (
        "wachtend_op_ondersteuning",
        "new",
        "supplier",
    )
    assert (ticket.type, ticket.priority, ticket.assignee_id) == ("melding", "normaal", None)
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert (step.label, step.turn, step.actions, step.timer) == (
        "Wachtend op ondersteuning",
        "supplier",
        (),
        None,
    )
    assert not TicketTimer.objects.filter(ticket=ticket).exists()  # no timers in this desk

    # -- In behandeling: a Support employee looks at the ticket ---------------------------
    clock.advance(hours=1)
    services.ticket_transition(actor=agent, ticket=ticket, transition="in_behandeling_nemen")
    ticket = fresh(ticket)
    assert (ticket.status, ticket.assignee, team(ticket)) == ("in_behandeling", agent, "support")
    taken = last_move(ticket)
    assert (taken.actor, taken.data["assignee"]) == (agent, [None, agent.pk])
    assert next_step_for(user=alice, ticket=ticket, lang="nl").label == "In behandeling"
    services.comment_add(
        actor=agent,
        ticket=ticket,
        body="Klant gebruikt nog de oude tariefstructuur.",
        internal=True,
    )

    # -- Wachtend op klant: something is unclear, so Support asks the reporter -----------------
    clock.advance(minutes=30)
    error = refused("requirement", actor=agent, ticket=ticket, transition="vraag_aan_klant")
    assert error.missing == ("comment",)
    services.ticket_transition(
        actor=agent,
        ticket=ticket,
        transition="vraag_aan_klant",
        comment="Per welke ingangsdatum is de polis gewijzigd?",
    )
    ticket = fresh(ticket)
    assert (ticket.status, ticket.turn, ticket.category) == (
        "wachtend_op_klant",
        "customer",
        "waiting",
    )
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert (step.label, step.turn, step.actions) == ("Wachtend op klant", "customer", ())
    assert [(e.event, e.target) for e in step.events] == [("customer_commented", "In behandeling")]
    # An SLA breach does not count while we wait for the customer.
    assert sla_breached(ticket, clock()) is None
    assert fresh(ticket).status == "wachtend_op_klant"

    # The customer's answer by itself puts the ticket back with Support.
    clock.advance(hours=2)
    answer = services.comment_add(actor=alice, ticket=ticket, body="Per 1 januari.")
    ticket = fresh(ticket)
    assert (ticket.status, ticket.turn, team(ticket)) == ("in_behandeling", "supplier", "support")
    assert ticket.assignee == agent  # the answer reaches whoever asked
    auto = last_move(ticket)
    assert (auto.actor_kind, auto.actor, auto.channel) == ("system", None, "system")
    assert auto.data["transition"] == "klant_antwoordt"
    assert auto.data["cause"] == {"event": "customer_commented", "comment": answer.pk}

    # -- Geëscaleerd: the time to resolve is exceeded, a lead escalates -----------------------
    clock.advance(days=3)
    before = state(ticket)
    refused("role", actor=agent, ticket=ticket, transition="escaleren")
    refused("role", actor=alice, ticket=ticket, transition="escaleren")
    assert state(ticket) == before
    services.ticket_transition(actor=lead, ticket=ticket, transition="escaleren")
    ticket = fresh(ticket)
    assert (ticket.status, ticket.flags, ticket.turn) == ("geescaleerd", ["escalated"], "supplier")
    assert last_move(ticket).actor == lead
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert step.label == "Geëscaleerd" and "escalated" in step.flags
    assert sla_breached(ticket, clock()) is None  # already escalated: nothing more happens

    # The programmers take over; the department picks it up itself, so nobody is assigned.
    clock.advance(hours=1)
    services.ticket_transition(actor=agent, ticket=ticket, transition="naar_applicatiebeheer")
    ticket = fresh(ticket)
    assert (ticket.status, team(ticket), ticket.assignee_id) == (
        "in_behandeling_applicatiebeheer",
        "applicatiebeheer",
        None,
    )
    assert ticket.flags == ["escalated"]  # the overrun stays visible

    # Another organisation's ticket waits for the same fix (used for the release below).
    elsewhere = services.ticket_create(actor=bob, desk=desk, title="Premie klopt niet bij B")
    services.ticket_transition(
        actor=agent,
        ticket=elsewhere,
        transition="oplossen_komende_update",
        comment="Zelfde fout als bij A.",
        fields={"fix_version": "7.4.1"},
    )
    assert fresh(elsewhere).status == "opgelost_komende_update"

    # -- Opgelost komende update: found, but fixed in the next update of Assu® ----------------
    clock.advance(days=1)
    error = refused(
        "requirement",
        actor=agent,
        ticket=ticket,
        transition="oplossen_komende_update",
        comment="Afrondingsfout in de premieberekening.",
    )
    assert error.missing == ("field:fix_version",)
    refused(
        "invalid",
        actor=agent,
        ticket=ticket,
        transition="oplossen_komende_update",
        comment="Afrondingsfout in de premieberekening.",
        fields={"fix_version": "7 punt 4"},
    )
    services.ticket_transition(
        actor=agent,
        ticket=ticket,
        transition="oplossen_komende_update",
        comment="Afrondingsfout in de premieberekening; de update rekent per dag.",
        fields={"fix_version": "7.4.1"},
    )
    ticket = fresh(ticket)
    assert (ticket.status, ticket.category, ticket.turn) == (
        "opgelost_komende_update",
        "resolved",
        "nobody",
    )
    assert ticket.fields == {"fix_version": "7.4.1"}
    assert last_move(ticket).data["fields"] == {"fix_version": [None, "7.4.1"]}
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert (step.label, step.turn) == ("Opgelost komende update", "nobody")
    assert step.actions == ()  # the customer waits for the update, then checks and closes
    assert [(e.event, e.environment, e.target) for e in step.events] == [
        ("release_published", None, "Wachtend op update"),
        ("release_deployed", "PROD", "Opgelost"),
    ]

    # The update with the fix is out (published), not yet at the customer's: Wachtend op
    # update, for every organisation's ticket that waits for it.
    clock.advance(days=3)
    release_publish(actor=lead, release=pipeline.releases["7.4.1"])
    assert run_once() == (0, 1)
    ticket = fresh(ticket)
    assert (ticket.status, ticket.turn) == ("wachtend_op_update", "nobody")
    published = last_move(ticket)
    assert (published.actor_kind, published.data["transition"]) == ("system", "update_uitgebracht")
    assert published.data["cause"]["event"] == "release_published"
    assert published.data["cause"]["version"] == "7.4.1"
    assert fresh(elsewhere).status == "wachtend_op_update"
    # Publishing again changes nothing.
    release_publish(actor=lead, release=pipeline.releases["7.4.1"])
    assert run_once() == (0, 0)
    waiting = state(ticket)

    # The update reaches TEST first: the customer checks in daily work, so nothing moves.
    clock.advance(weeks=2)
    assert pipeline.deploy(world.org_a, "TEST", "7.4.1") == (0, 1)
    assert state(ticket) == waiting
    # A production update that does not carry the fix moves nothing either.
    assert pipeline.deploy(world.org_a, "PROD", "7.4.0") == (0, 1)
    assert state(ticket) == waiting

    # The update with the fix reaches the customer's production: Opgelost, please check.
    clock.advance(weeks=1)
    assert pipeline.deploy(world.org_a, "PROD", "7.4.1") == (0, 1)
    ticket = fresh(ticket)
    assert (ticket.status, ticket.turn, ticket.category) == ("opgelost", "customer", "resolved")
    delivered = last_move(ticket)
    assert (delivered.actor_kind, delivered.data["transition"]) == ("system", "update_beschikbaar")
    assert delivered.data["cause"]["environment"] == "PROD"
    assert delivered.data["cause"]["version"] == "7.4.1"
    # The other organisation has not had that update yet.
    assert fresh(elsewhere).status == "wachtend_op_update"
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert (step.label, step.turn, step.timer) == ("Opgelost", "customer", None)
    assert {(a.key, a.label, a.target) for a in step.actions} == {
        ("sluiten", "Sluiten", "Gesloten"),
        ("terug_naar_actief", "Terug naar actief", "Actief"),
    }

    # The ticket does not close by itself, however long the customer takes.
    clock.advance(days=60)
    assert run_once() == (0, 0)
    assert fresh(ticket).status == "opgelost"

    # -- A customer of another organisation never finds this ticket ------------------------
    # Bob (organisation B) finds his own ticket on this desk, but for ours every service
    # answers NotFound, exactly as if it did not exist, and nothing changes.
    bob_ticket = ticket_get_for_actor(user=bob, key=elsewhere.key)
    support_team = Team.objects.get(desk=desk, slug="support")
    before = state(ticket)
    hidden = {
        "get": lambda: ticket_get_for_actor(user=bob, key=ticket.key),
        "comment": lambda: services.comment_add(actor=bob, ticket=ticket, body="Hallo?"),
        "close": lambda: services.ticket_transition(actor=bob, ticket=ticket, transition="sluiten"),
        "back_to_active": lambda: services.ticket_transition(
            actor=bob, ticket=ticket, transition="terug_naar_actief", comment="Kijk nog eens."
        ),
        "assign": lambda: services.ticket_assign(actor=bob, ticket=ticket, assignee=agent),
        "assign_customer": lambda: services.ticket_assign_customer(
            actor=bob, ticket=ticket, person=bob
        ),
        "route": lambda: services.ticket_route(actor=bob, ticket=ticket, team=support_team),
        "edit": lambda: services.ticket_edit(actor=bob, ticket=ticket, title="Van mij"),
        "follow": lambda: services.participant_add(actor=bob, ticket=ticket, person=bob),
        "unfollow": lambda: services.participant_remove(actor=bob, ticket=ticket, person=alice),
        "link": lambda: services.ticket_link(actor=bob, ticket=bob_ticket, other=ticket),
        "duplicate": lambda: services.ticket_mark_duplicate(
            actor=bob, ticket=bob_ticket, original=ticket
        ),
    }
    for name, call in hidden.items():
        with pytest.raises(NotFound):
            call()
        assert state(ticket) == before, name
    assert fresh(elsewhere).status == "wachtend_op_update"

    # -- Gesloten: the reporter sees it is really solved and clicks "Sluiten" ---------------
    resolved = state(ticket)
    refused("role", actor=amir, ticket=ticket, transition="sluiten")  # a colleague cannot
    assert state(ticket) == resolved
    services.ticket_transition(actor=alice, ticket=ticket, transition="sluiten")
    ticket = fresh(ticket)
    assert (ticket.status, ticket.category, ticket.closed_at) == ("gesloten", "closed", clock())
    assert last_move(ticket).actor == alice
    step = next_step_for(user=alice, ticket=ticket, lang="nl")
    assert (step.label, step.actions, step.events) == ("Gesloten", (), ())
    assert next_step_for(user=agent, ticket=ticket, lang="nl").actions == ()  # final

    # -- Another ticket: reported solved, but it is not ---------------------------------------
    clock.advance(days=1)
    second = services.ticket_create(actor=amir, desk=desk, title="Export naar APLAZA faalt")
    services.ticket_transition(actor=agent, ticket=second, transition="in_behandeling_nemen")
    # This one also takes too long: the SLA worker escalates it.
    clock.advance(days=5)
    assert sla_breached(second, clock()) == "escaleren"
    second = fresh(second)
    assert (second.status, second.flags) == ("geescaleerd", ["escalated"])
    breach = last_move(second)
    assert (breach.actor_kind, breach.actor, breach.channel) == ("system", None, "system")
    assert breach.data["cause"] == {"event": "sla_breached"}
    services.ticket_transition(actor=agent, ticket=second, transition="in_behandeling_nemen")
    services.ticket_transition(
        actor=agent, ticket=second, transition="oplossen", comment="Het exportpad is aangepast."
    )
    second = fresh(second)
    assert (second.status, second.cycle) == ("opgelost", 1)
    solved = state(second)

    # Only the reporter (or their administrator) sends it back, and only saying what is wrong.
    clock.advance(days=2)
    refused("role", actor=alice, ticket=second, transition="terug_naar_actief", comment="Nee.")
    error = refused("requirement", actor=amir, ticket=second, transition="terug_naar_actief")
    assert error.missing == ("comment",)
    assert state(second) == solved
    action = next(
        a
        for a in next_step_for(user=amir, ticket=second, lang="nl").actions
        if a.key == "terug_naar_actief"
    )
    assert action.needs == ("comment",) and "nieuw ticket" in action.prompt
    services.ticket_transition(
        actor=amir,
        ticket=second,
        transition="terug_naar_actief",
        comment="De export faalt nog steeds voor de maandbestanden.",
    )
    second = fresh(second)
    assert (second.status, second.cycle, team(second)) == ("actief", 2, "support")
    assert (second.category, second.turn, second.assignee) == ("open", "supplier", agent)
    back = last_move(second)
    assert (back.actor, back.data["cycle"]) == (amir, 2)
    assert back.data["comment"] == Comment.objects.filter(ticket=second).last().pk
    assert next_step_for(user=amir, ticket=second, lang="nl").label == "Actief"
    # Support picks it up again and, this time, the administrator closes it for the reporter.
    services.ticket_transition(actor=agent, ticket=second, transition="in_behandeling_nemen")
    services.ticket_transition(
        actor=agent, ticket=second, transition="oplossen", comment="Maandbestanden hersteld."
    )
    services.ticket_transition(actor=ada, ticket=second, transition="sluiten")
    assert (fresh(second).status, fresh(second).cycle) == ("gesloten", 2)

    # Organisation B's ticket waited all along (the update is out, not yet at B); when B
    # gets it, it moves, and our closed ticket stays closed.
    assert fresh(elsewhere).status == "wachtend_op_update"
    assert pipeline.deploy(world.org_b, "PROD", "7.5") == (0, 1)
    assert fresh(elsewhere).status == "opgelost"
    assert fresh(ticket).status == "gesloten"

    # -- The customer's history shows what happened, never the internal notes ---------------
    seen = ticket_get_for_actor(user=alice, key="assu-1")
    customer_view = history_for(user=alice, ticket=seen)
    staff_view = history_for(user=agent, ticket=seen)
    assert [e.kind for e in staff_view].count("note") == 1
    assert "note" not in [e.kind for e in customer_view]
    assert all(e.public for e in customer_view)
    assert len(staff_view) == len(customer_view) + 1
    assert [e.data["transition"] for e in customer_view if e.kind == "transition"] == [
        "in_behandeling_nemen",
        "vraag_aan_klant",
        "klant_antwoordt",
        "escaleren",
        "naar_applicatiebeheer",
        "oplossen_komende_update",
        "update_uitgebracht",
        "update_beschikbaar",
        "sluiten",
    ]
    bodies = [c.body for c in comments_for(user=alice, ticket=seen)]
    assert "Klant gebruikt nog de oude tariefstructuur." not in bodies
    assert "Per 1 januari." in bodies
    assert "Klant gebruikt nog de oude tariefstructuur." in [
        c.body for c in comments_for(user=agent, ticket=seen)
    ]

    # -- Organisation B: the update does not solve it, and a second round ---------------------
    # Bob checks 7.5 in production and sends the ticket back, with his reason.
    clock.advance(days=1)
    services.ticket_transition(
        actor=bob, ticket=elsewhere, transition="terug_naar_actief", comment="Premie nog fout."
    )
    assert fresh(elsewhere).status == "actief"
    # Support finds the rest of the fault; 7.6 fixes it, with a note for customers (API),
    # written for every customer of the desk: it names nothing of B's own.
    fixed = Api(agent).post(
        f"tickets/{elsewhere.key}/fixes",
        {
            "version": "7.6",
            "notes": {"nl": "De premie klopt nu ook bij een gewijzigd tarief."},
            "audience": "everyone",
        },
    )
    assert fixed.status_code == 201, fixed.content
    services.ticket_transition(
        actor=agent,
        ticket=elsewhere,
        transition="oplossen_komende_update",
        comment="Opgelost in 7.6.",
        fields={"fix_version": "7.6"},
    )
    assert fresh(elsewhere).status == "opgelost_komende_update"
    # The old update deployed again at B carries nothing that still counts: nothing moves.
    assert pipeline.deploy(world.org_b, "PROD", "7.5", pipeline_id="b-prod-75-again") == (0, 1)
    assert fresh(elsewhere).status == "opgelost_komende_update"
    release_publish(actor=lead, release=pipeline.releases["7.6"])
    assert run_once() == (0, 1)
    assert fresh(elsewhere).status == "wachtend_op_update"
    clock.advance(weeks=1)
    assert pipeline.deploy(world.org_b, "PROD", "7.6") == (0, 1)
    assert fresh(elsewhere).status == "opgelost"
    services.ticket_transition(actor=bob, ticket=elsewhere, transition="sluiten")
    assert fresh(elsewhere).status == "gesloten"
    assert [
        (a.tier, a.cycle, a.round, a.verdict, a.release.version, a.reason)
        for a in Acceptance.objects.filter(ticket=elsewhere).select_related("release")
    ] == [
        ("PROD", 1, 1, "rejected", "7.5", "Premie nog fout."),
        ("PROD", fresh(elsewhere).cycle, 1, "accepted", "7.6", ""),
    ]
    assert fresh(elsewhere).cycle == 2  # back to active from Opgelost starts a new cycle
    # What's new in 7.6, as each customer sees it: both read the published notes; only Bob
    # finds a case of his in it and his production's date; Alice's production has no 7.6.
    bobs = Api(bob).get(f"desks/{desk.pk}/releases/7.6/whats-new?lang=nl").json()
    alices = Api(alice).get(f"desks/{desk.pk}/releases/7.6/whats-new?lang=nl").json()
    assert bobs["fixes"] == alices["fixes"] == ["De premie klopt nu ook bij een gewijzigd tarief."]
    assert (bobs["cases"], alices["cases"]) == ([elsewhere.key], [])
    assert [(r["environment"], r["at"] is not None) for r in bobs["reached"]] == [
        ("TEST", False),
        ("PROD", True),
    ]
    assert [(r["environment"], r["at"]) for r in alices["reached"]] == [
        ("TEST", None),
        ("PROD", None),
    ]


def test_the_time_to_resolve_runs_out_and_the_worker_escalates(world, clock, db):
    """The shipped example targets: an urgent ticket gets four business hours to resolve.
    Waiting for the customer stops the count; when it runs out the worker moves the ticket
    to Geëscaleerd, once."""
    from datetime import UTC, datetime

    from casedesk.sla.models import TicketClock
    from casedesk.sla.presets import sla_preset_apply

    desk = make_desk("assu", "ASSU", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    sla_preset_apply(actor=world.admin, desk=desk, preset="assu")
    clock.set(datetime(2026, 11, 2, 8, 0, tzinfo=UTC))  # Monday 09:00 in Amsterdam
    ticket = services.ticket_create(
        actor=world.alice, desk=desk, title="Polis niet te openen", priority="urgent"
    )
    res = TicketClock.objects.get(ticket=ticket, target="resolution")
    assert res.due_at == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # 13:00 local
    clock.set(datetime(2026, 11, 2, 12, 1, tzinfo=UTC))
    run_once()
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == "geescaleerd"
    assert last_move(ticket).data["cause"]["sla"]["target"] == "resolution"
    clock.advance(hours=2)
    run_once()
    assert TicketEvent.objects.filter(ticket=ticket, kind="transition").count() == 1
