"""`release.deployed`: one delivery per deployment, never one per ticket and never twice;
the ticket moves a deployment causes come as their own `ticket.status_changed`."""

from __future__ import annotations

from datetime import timedelta

from casedesk.desks.models import StaffMembership
from casedesk.ops.worker import run_once
from casedesk.releases.models import Deployment
from casedesk.webhooks.models import WebhookDelivery
from tests.conftest import make_staff
from tests.releases.test_deployments import product, waiting  # noqa: F401 (a fixture)

from .test_delivery import verify


def admin_of(desk):
    person = make_staff("hooks")
    StaffMembership.objects.create(desk=desk, user=person, role="admin")
    return person


def rounds(n: int = 3) -> None:
    for _ in range(n):  # the delivery moves tickets; their history is sent the round after
        run_once()


def test_one_event_per_deployment_and_the_moves_it_causes(
    world,
    product,  # noqa: F811
    app_consumers,
    receiver,
    local_allowed,
    clock,
):
    from tests.api.conftest import Api

    desk = product.desk
    made = Api(admin_of(desk)).post(
        f"desks/{desk.pk}/webhooks",
        {"url": receiver.url, "events": ["release.deployed", "ticket.status_changed"]},
    )
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    ours = [waiting(world, desk, world.alice, "2.4", title=f"a{i}") for i in range(2)]
    theirs = waiting(world, desk, world.bob, "2.4", title="b")
    rounds()
    receiver.requests.clear()

    clock.advance(minutes=5)
    deployed_at = clock() - timedelta(minutes=1)
    first = product.send(world.org_a, "PROD", "2.10", pipeline_id="b-1", deployed_at=deployed_at)
    assert first.status_code == 201
    assert product.send(world.org_a, "PROD", "2.10", pipeline_id="b-1").status_code == 200
    rounds()
    assert all(verify(secret, r) for r in receiver.requests)
    bodies = receiver.bodies()
    deployed = [b for b in bodies if b["type"] == "release.deployed"]
    moves = [b for b in bodies if b["type"] == "ticket.status_changed"]
    deployment = Deployment.objects.get(pipeline_id="b-1")
    env = product.environments["org-a", "PROD"]
    assert len(deployed) == 1  # sent twice, told once
    (told,) = deployed
    assert told["deployment"] == {
        "id": deployment.pk,
        "pipeline_id": "b-1",
        "deployed_at": deployed_at.isoformat(),
        "received_at": deployment.received_at.isoformat(),
        "current": True,
    }
    assert told["environment"] == {"id": env.pk, "name": "PROD", "tier": "PROD"}
    assert told["organisation"] == {"id": world.org_a.pk, "slug": world.org_a.slug}
    assert told["release"]["version"] == "2.10" and told["release"]["line"] == "2"
    assert (told["actor"]["kind"], told["actor"]["id"]) == ("staff", world.lead.pk)
    assert "ticket" not in told
    # each of our two tickets moved once, with the deployment as the cause; theirs did not
    assert sorted(m["ticket"]["key"] for m in moves) == sorted(t.key for t in ours)
    assert theirs.key not in {m["ticket"]["key"] for m in moves}
    for m in moves:
        assert m["change"]["to"]["status"] == "test_it"
        assert m["change"]["cause"]["event"] == "release_deployed"
        assert m["change"]["cause"]["deployment"] == deployment.pk
        assert m["change"]["cause"]["environment_id"] == env.pk
    assert WebhookDelivery.objects.filter(event_type="release.deployed").count() == 1

    # an older deployment that arrives late is told too, as not what the environment runs
    receiver.requests.clear()
    product.send(world.org_a, "PROD", "2.4", deployed_at=deployed_at - timedelta(hours=1))
    rounds()
    (late,) = receiver.bodies()
    assert (late["type"], late["release"]["version"]) == ("release.deployed", "2.4")
    assert late["deployment"]["current"] is False


def test_a_subscription_that_does_not_want_it_gets_none(
    world,
    product,  # noqa: F811
    app_consumers,
):
    from casedesk.webhooks.services import subscription_create

    admin = admin_of(product.desk)
    subscription_create(
        actor=admin,
        desk=product.desk,
        url="https://example.org/in",
        events=["ticket.created"],
    )
    wants_all, _ = subscription_create(
        actor=admin, desk=product.desk, url="https://example.org/all"
    )
    assert product.send(world.org_b, "TEST", "3.0").status_code == 201
    (made,) = WebhookDelivery.objects.filter(event_type="release.deployed")
    assert made.subscription == wants_all and made.event is None
    assert made.payload["organisation"]["id"] == world.org_b.pk
