"""Deployments from a pipeline: idempotent under the pipeline's id, any arrival order ends
in the right state, each organisation's tickets move only with its own environments, and
the cost of a delivery follows the tickets it concerns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.desks.services import desk_create, workflow_store
from casedesk.ops.worker import run_once
from casedesk.releases.delivery import deployment_deliver
from casedesk.releases.models import Deployment, Environment, TicketFix
from casedesk.releases.services import deployment_record, fix_record
from casedesk.tickets import services
from casedesk.tickets.models import AppendOnlyError, Ticket, TicketEvent
from tests.api.conftest import Api
from tests.conftest import make_customer
from tests.helpers import fresh, state

from .pipeline import Pipeline

FLOW = (Path(__file__).parent.parent / "fixtures" / "workflows" / "releases.yaml").read_text()


@pytest.fixture
def product(world):
    """The fixture flow: a ticket waits for an update and moves when PROD has the fix."""
    desk = desk_create(
        name="Product", key_prefix="PRD", workflow=workflow_store(source=FLOW, origin="t")
    )
    desk.organisations.set([world.org_a, world.org_b])
    desk.staff.create(user=world.lead, role="lead")
    desk.staff.create(user=world.agent, role="agent")
    # an explicit order that no version rule gives: 2.10 comes after 2.4, 3.0 after both
    pipeline = Pipeline(
        lead=world.lead,
        desk=desk,
        versions={"2": ["2.4", "2.10", "3.0"]},
        orgs=[world.org_a, world.org_b],
    )
    return pipeline


def waiting(world, desk, user, fix: str, title: str = "x") -> Ticket:
    t = services.ticket_create(actor=user, desk=desk, title=title)
    services.ticket_transition(
        actor=world.lead, ticket=t, transition="fixed_later", fields={"fix_version": fix}
    )
    return fresh(t)


def statuses(tickets: dict) -> dict:
    return {name: fresh(t).status for name, t in tickets.items()}


def test_a_deployment_moves_exactly_the_tickets_it_carries(world, product):
    desk = product.desk
    tickets = {
        "a24": waiting(world, desk, world.alice, "2.4"),
        "a30": waiting(world, desk, world.alice, "3.0"),
        "b24": waiting(world, desk, world.bob, "2.4"),
    }
    assert product.deploy(world.org_a, "TEST", "2.10") == (0, 1)
    assert set(statuses(tickets).values()) == {"waiting_update"}  # the flow waits for PROD
    assert product.deploy(world.org_a, "PROD", "2.10") == (0, 1)
    assert statuses(tickets) == {"a24": "test_it", "a30": "waiting_update", "b24": "waiting_update"}
    event = TicketEvent.objects.filter(ticket=tickets["a24"], kind="transition").last()
    deployment = Deployment.objects.get(pk=event.data["cause"]["deployment"])
    assert (event.actor_kind, event.data["transition"]) == ("system", "update_arrived")
    assert event.data["cause"] == {
        "event": "release_deployed",
        "environment": "PROD",
        "version": "2.10",
        "release": product.releases["2.10"].pk,
        "deployment": deployment.pk,
        "environment_id": product.environments["org-a", "PROD"].pk,
    }
    assert deployment.recorded_by == world.lead
    assert (
        Environment.objects.get(pk=product.environments["org-a", "PROD"].pk).current == deployment
    )


def test_the_same_deployment_sent_twice_changes_nothing(world, product):
    t = waiting(world, product.desk, world.alice, "2.4")
    first = product.send(world.org_a, "PROD", "2.10", pipeline_id="build-77")
    assert first.status_code == 201
    assert run_once() == (0, 1)
    after = state(t)
    again = product.send(world.org_a, "PROD", "2.10", pipeline_id="build-77")
    assert again.status_code == 200 and again.json() == first.json()
    assert run_once() == (0, 0)  # nothing was queued
    assert state(t) == after
    assert Deployment.objects.count() == 1
    # the same id for something else is a mistake of the pipeline, refused
    other = product.send(world.org_a, "TEST", "2.10", pipeline_id="build-77")
    assert other.status_code == 422 and "pipeline_id" in other.json()["errors"]
    assert Deployment.objects.count() == 1


def test_a_late_event_for_an_older_deployment_leaves_the_newer_one_running(world, product, clock):
    t = waiting(world, product.desk, world.alice, "3.0")
    newer_at = clock()
    clock.advance(hours=1)
    assert product.deploy(world.org_a, "PROD", "3.0", deployed_at=newer_at) == (0, 1)
    assert fresh(t).status == "test_it"
    # the older deployment, an hour before, arrives only now
    assert product.deploy(
        world.org_a, "PROD", "2.4", deployed_at=newer_at - timedelta(hours=1)
    ) == (0, 1)
    env = Environment.objects.get(pk=product.environments["org-a", "PROD"].pk)
    assert env.current.release.version == "3.0"
    assert fresh(t).status == "test_it"
    # a ticket that starts waiting for 3.0 now is delivered at once: PROD already runs it
    late = waiting(world, product.desk, world.alice, "3.0")
    assert run_once() == (0, 1)
    assert fresh(late).status == "test_it"


def test_another_organisations_environment_moves_none_of_ours(world, product):
    ours = waiting(world, product.desk, world.alice, "2.4")
    theirs = waiting(world, product.desk, world.bob, "2.4")
    before = state(ours)
    assert product.deploy(world.org_b, "PROD", "3.0") == (0, 1)
    assert state(ours) == before
    assert fresh(theirs).status == "test_it"


def test_a_fix_the_customer_rejected_no_longer_counts(world, product):
    t = waiting(world, product.desk, world.alice, "2.4")
    (fix,) = TicketFix.objects.filter(ticket=t)
    assert fix.active and fix.open
    services.ticket_edit(actor=world.lead, ticket=t, fields={"fix_version": None})
    fix.refresh_from_db()
    assert not fix.active
    assert product.deploy(world.org_a, "PROD", "3.0") == (0, 1)
    assert fresh(t).status == "waiting_update"


def test_a_backport_is_a_second_fix_on_another_line(world):
    desk = desk_create(
        name="Lines", key_prefix="LIN", workflow=workflow_store(source=FLOW, origin="t")
    )
    desk.organisations.set([world.org_a, world.org_b])
    desk.staff.create(user=world.lead, role="lead")
    pipeline = Pipeline(
        lead=world.lead,
        desk=desk,
        versions={"7": ["7.3.1", "7.3.2"], "8": ["8.0", "8.1"]},
        orgs=[world.org_a, world.org_b],
    )
    a = waiting(world, desk, world.alice, "8.1")
    b = waiting(world, desk, world.bob, "8.1")
    fix_record(
        actor=world.lead,
        ticket=b,
        release=pipeline.releases["7.3.2"],
        notes={"en": "Premiums are rounded per day again."},
    )
    assert {f.release.version for f in TicketFix.objects.filter(ticket=b)} == {"7.3.2", "8.1"}
    # B still runs line 7: the backport reaches it; A on 7 does not have the backport
    assert pipeline.deploy(world.org_b, "PROD", "7.3.2") == (0, 1)
    assert pipeline.deploy(world.org_a, "PROD", "7.3.2") == (0, 1)
    assert (fresh(a).status, fresh(b).status) == ("waiting_update", "test_it")
    # 8.0 comes before the fix on line 8
    assert pipeline.deploy(world.org_a, "PROD", "8.0") == (0, 1)
    assert fresh(a).status == "waiting_update"
    assert pipeline.deploy(world.org_a, "PROD", "8.1") == (0, 1)
    assert fresh(a).status == "test_it"


def test_deployments_are_append_only(world, product):
    product.send(world.org_a, "PROD", "2.4")
    d = Deployment.objects.get()
    d.pipeline_id = "changed"
    with pytest.raises(AppendOnlyError):
        d.save()
    with pytest.raises(AppendOnlyError):
        Deployment.objects.all().delete()


def test_bad_deployments_are_refused_and_change_nothing(world, product, clock):
    url = f"desks/{product.desk.pk}/deployments"
    base = {"organisation": "org-a", "environment": "PROD", "version": "2.4", "pipeline_id": "p"}
    cases = {
        "unknown version": ({**base, "version": "9.9"}, 422),
        "unknown environment": ({**base, "environment": "STAGING"}, 404),
        "unknown organisation": ({**base, "organisation": "org-zz"}, 404),
        "in the future": ({**base, "deployed_at": (clock() + timedelta(days=1)).isoformat()}, 422),
        "no pipeline id": ({**base, "pipeline_id": ""}, 422),
        "unknown field": ({**base, "status": "done"}, 422),
    }
    for name, (body, status) in cases.items():
        answer = product.api.post(url, body)
        assert answer.status_code == status, (name, answer.content)
    assert not Deployment.objects.exists()


def test_a_deploy_token_records_deployments_and_nothing_else(world, product):
    api = product.api
    assert api.get("tickets").status_code == 403
    assert api.get(f"desks/{product.desk.pk}/environments").status_code == 403
    assert api.post("tickets", {"desk": product.desk.pk, "title": "x"}).status_code == 403
    # only leads record deployments: an agent's deploy token and a customer's are refused
    body = {"organisation": "org-a", "environment": "PROD", "version": "2.4", "pipeline_id": "q"}
    url = f"desks/{product.desk.pk}/deployments"
    assert Api(world.agent, "deploy").post(url, body).status_code == 403
    assert Api(world.alice, "deploy").post(url, body).status_code == 403  # her desk, no role
    assert Api(world.bob, "write").post(url, body).status_code == 404  # A's environment
    assert Api(world.outsider, "deploy").post(url, body).status_code == 404
    assert Api(None).post(url, body).status_code == 401
    assert Api(world.lead, "read").post(url, body).status_code == 403
    assert not Deployment.objects.exists()
    # a lead's write token may record one too
    assert Api(world.lead, "write").post(url, body).status_code == 201


def test_customers_see_only_their_own_organisations_environments(world, product):
    product.deploy(world.org_b, "PROD", "3.0")
    product.deploy(world.org_a, "TEST", "2.4")
    url = f"desks/{product.desk.pk}/environments"
    seen = {
        who: {(e["organisation"], e["name"]) for e in Api(user).get(url).json()}
        for who, user in (("alice", world.alice), ("bob", world.bob), ("lead", world.lead))
    }
    a, b = world.org_a.pk, world.org_b.pk
    assert seen["alice"] == {(a, "TEST"), (a, "PROD")}
    assert seen["bob"] == {(b, "TEST"), (b, "PROD")}
    assert seen["lead"] == seen["alice"] | seen["bob"]
    bodies = {who: Api(user).get(url).content for who, user in (("alice", world.alice),)}
    assert b"3.0" not in bodies["alice"]  # B's release is not told to A
    assert (
        Api(make_customer("cleo", world.org_a))
        .get(f"desks/{world.other_desk.pk}/environments")
        .json()
        == []
    )
    assert Api(world.outsider).get(url).status_code == 404


def test_a_delivery_costs_what_it_concerns_not_what_exists(world, product):
    """The statements of a delivery do not grow with tickets it does not concern: other
    organisations' waiting tickets, closed tickets with fixes, tickets with no fix."""
    desk = product.desk
    concerned = [waiting(world, desk, world.alice, "2.4") for _ in range(3)]

    def deliver() -> int:
        deployment, _ = deployment_record(
            actor=world.lead,
            environment=product.environments["org-a", "TEST"],
            release=product.releases["2.10"],
            pipeline_id=f"cost-{Deployment.objects.count()}",
        )
        with CaptureQueriesContext(connection) as queries:
            deployment_deliver(deployment)
        return len(queries)

    small = deliver()
    for i in range(20):
        waiting(world, desk, world.bob, "2.4")  # another organisation's
        t = waiting(world, desk, world.alice, "2.4")
        services.ticket_transition(actor=world.lead, ticket=t, transition="update_arrived")
        services.ticket_transition(actor=world.lead, ticket=fresh(t), transition="close")
        services.ticket_create(actor=world.alice, desk=desk, title=f"no fix {i}")
    assert deliver() == small
    assert all(fresh(t).status == "waiting_update" for t in concerned)  # TEST moves nothing


def test_a_later_fix_on_the_same_line_moves_the_field_with_it(world, product):
    """The ticket names 2.4; staff fix it in 3.0 instead: the field names 3.0, so the next
    change of the ticket keeps 3.0 as its fix rather than bringing 2.4 back."""
    t = waiting(world, product.desk, world.alice, "2.4")
    fix_record(actor=world.lead, ticket=fresh(t), release=product.releases["3.0"])
    assert fresh(t).fields["fix_version"] == "3.0"
    services.comment_add(actor=world.lead, ticket=fresh(t), body="Moved to 3.0")
    active = TicketFix.objects.filter(ticket=t, withdrawn_at__isnull=True)
    assert [f.release.version for f in active] == ["3.0"]
    assert product.deploy(world.org_a, "PROD", "2.10") == (0, 1)
    assert fresh(t).status == "waiting_update"  # 2.4 is in 2.10, but the fix is now 3.0
    assert product.deploy(world.org_a, "PROD", "3.0") == (0, 1)
    assert fresh(t).status != "waiting_update"
