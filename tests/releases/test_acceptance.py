"""The customer's verdict in TEST and in PROD, per environment and cycle, through the
deployment API: tms's rounds of update, accept, reject and update again; assu's check in
production after the update."""

from __future__ import annotations

from casedesk.ops.worker import run_once
from casedesk.releases.models import Acceptance, TicketFix
from casedesk.tickets import services
from tests.conftest import make_desk
from tests.helpers import fresh

from .pipeline import Pipeline

UB = "under_behandling"


def place(t):
    t = fresh(t)
    return t.status, t.sub_status


def verdicts(ticket):
    return [
        (a.tier, a.cycle, a.round, a.verdict, a.release.version if a.release else None, a.reason)
        for a in Acceptance.objects.filter(ticket=ticket).select_related("release")
    ]


def test_tms_test_then_prod_with_a_rejection_and_a_second_round(world, clock):
    desk = make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    pipeline = Pipeline(
        lead=world.lead,
        desk=desk,
        versions={"3": ["3.1.2", "3.2", "3.3"]},
        orgs=[world.org_a, world.org_b],
    )
    agent, alice = world.agent, world.alice
    case = services.ticket_create(actor=alice, desk=desk, title="Lønkørslen stopper")
    services.ticket_transition(actor=agent, ticket=case, transition="receive", assignee=agent)
    services.ticket_transition(
        actor=agent, ticket=case, transition="await_update", fields={"fix_version": "3.1.2"}
    )
    assert place(case) == (UB, "afventer_distribution_start")

    # Round 1: TEST, accepted; PROD, rejected with the customer's reason.
    clock.advance(days=1)
    assert pipeline.deploy(world.org_a, "TEST", "3.1.2") == (0, 1)
    assert place(case) == (UB, "opdateret_i_test_afventer_accept")
    services.ticket_transition(actor=alice, ticket=case, transition="accept_in_test")
    clock.advance(days=1)
    assert pipeline.deploy(world.org_a, "PROD", "3.1.2") == (0, 1)
    assert place(case) == (UB, "opdateret_i_prod_afventer_accept")
    services.ticket_transition(
        actor=alice,
        ticket=case,
        transition="reject_in_prod",
        comment="Afdeling 12 fejler stadig i produktion.",
    )
    case = fresh(case)
    # back as the document says: to development, and the fix no longer counts
    assert place(case) == (UB, "opdateret_i_prod_ikke_accepteret")
    assert case.team.slug == "development" and "fix_version" not in case.fields
    assert not TicketFix.objects.filter(ticket=case, withdrawn_at__isnull=True).exists()
    assert verdicts(case) == [
        ("TEST", 1, 1, "accepted", "3.1.2", ""),
        ("PROD", 1, 1, "rejected", "3.1.2", "Afdeling 12 fejler stadig i produktion."),
    ]
    # a deployment of a release carrying only the rejected fix moves nothing now
    assert pipeline.deploy(world.org_a, "TEST", "3.1.2", pipeline_id="again-312") == (0, 1)
    assert place(case) == (UB, "opdateret_i_prod_ikke_accepteret")

    # Round 2: a new fix in 3.2, rejected in TEST; then 3.3, accepted in TEST and PROD.
    services.ticket_transition(actor=agent, ticket=case, transition="start_work")
    services.ticket_transition(
        actor=agent, ticket=case, transition="await_update", fields={"fix_version": "3.2"}
    )
    clock.advance(days=1)
    assert pipeline.deploy(world.org_a, "TEST", "3.2") == (0, 1)
    services.ticket_transition(
        actor=alice, ticket=case, transition="reject_in_test", comment="Nu fejler afdeling 7."
    )
    assert place(case) == (UB, "opdateret_i_test_ikke_accepteret")
    services.ticket_transition(actor=agent, ticket=case, transition="start_work")
    services.ticket_transition(
        actor=agent, ticket=case, transition="await_update", fields={"fix_version": "3.3"}
    )
    # PROD gets 3.3 before TEST does: nothing moves until TEST has it and it is accepted
    assert pipeline.deploy(world.org_a, "PROD", "3.3") == (0, 1)
    assert place(case) == (UB, "afventer_distribution_start")
    assert pipeline.deploy(world.org_a, "TEST", "3.3") == (0, 1)
    services.ticket_transition(actor=world.amir, ticket=case, transition="accept_in_test")
    assert run_once() == (0, 1)  # PROD already runs 3.3: the case moves on by itself
    assert place(case) == (UB, "opdateret_i_prod_afventer_accept")
    services.ticket_transition(actor=alice, ticket=case, transition="accept_in_prod")
    assert place(case) == ("lukket", "opdateret_i_prod_accepteret")
    assert verdicts(case)[2:] == [
        ("TEST", 1, 2, "rejected", "3.2", "Nu fejler afdeling 7."),
        ("TEST", 1, 3, "accepted", "3.3", ""),
        ("PROD", 1, 2, "accepted", "3.3", ""),
    ]
    assert Acceptance.objects.filter(ticket=case).last().by == alice
    assert not Acceptance.objects.filter(organisation=world.org_b).exists()


def test_assu_closing_after_the_update_is_its_acceptance_in_prod(world, clock):
    desk = make_desk("assu", "ASSU", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    pipeline = Pipeline(lead=world.lead, desk=desk, versions={"7": ["7.4.1"]}, orgs=[world.org_a])
    fixed = services.ticket_create(actor=world.alice, desk=desk, title="Premie")
    services.ticket_transition(
        actor=world.agent,
        ticket=fixed,
        transition="oplossen_komende_update",
        comment="In 7.4.1.",
        fields={"fix_version": "7.4.1"},
    )
    by_hand = services.ticket_create(actor=world.alice, desk=desk, title="Vraag")
    services.ticket_transition(
        actor=world.agent, ticket=by_hand, transition="oplossen", comment="Zo doe je dat."
    )
    assert pipeline.deploy(world.org_a, "PROD", "7.4.1") == (0, 1)
    assert fresh(fixed).status == "opgelost"
    services.ticket_transition(
        actor=world.alice, ticket=fixed, transition="terug_naar_actief", comment="Nog fout."
    )
    services.ticket_transition(actor=world.alice, ticket=by_hand, transition="sluiten")
    assert verdicts(fixed) == [("PROD", 1, 1, "rejected", "7.4.1", "Nog fout.")]
    assert verdicts(by_hand) == []  # resolved by hand: closing it judged no update
