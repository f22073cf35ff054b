"""Webhooks end to end: history -> deliveries -> the worker -> a real HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket

import pytest

from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.outbox import deliver_all
from casedesk.webhooks.events import deliveries_prepare
from casedesk.webhooks.models import AllowedNetwork, WebhookDelivery, WebhookSubscription
from casedesk.webhooks.services import subscription_create
from tests.api.conftest import Api


def subscribe(desk_admin, world, url, events=()):
    api = Api(desk_admin)
    made = api.post(f"desks/{world.desk.pk}/webhooks", {"url": url, "events": list(events)})
    assert made.status_code == 201, made.content
    return made.json(), api


def verify(secret: str, request: dict) -> bool:
    header = request["headers"]["X-Casedesk-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), parts["v1"])


def test_events_arrive_signed_at_an_allowed_local_receiver(
    world, app_consumers, receiver, desk_admin, local_allowed, clock
):
    sub, api = subscribe(desk_admin, world, receiver.url)
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="Printer")
    services.comment_add(actor=world.agent, ticket=ticket, body="internal", internal=True)
    services.comment_add(actor=world.alice, ticket=ticket, body="more smoke")
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="start")
    run_once()
    types = [r["headers"]["X-Casedesk-Event"] for r in receiver.requests]
    assert types == [
        "ticket.created",
        "ticket.commented",
        "ticket.assigned",
        "ticket.status_changed",
    ]
    assert all(verify(sub["secret"], r) for r in receiver.requests)
    assert not verify("wrong" * 8, receiver.requests[0])
    created, commented, _, moved = receiver.bodies()
    assert created["ticket"]["key"] == ticket.key and created["actor"]["kind"] == "customer"
    assert commented["change"]["comment"]["body"] == "more smoke"
    assert "internal" not in json.dumps(receiver.bodies())
    assert moved["change"]["to"] == {"status": "open", "sub_status": ""}
    assert {r["headers"]["X-Casedesk-Delivery"] for r in receiver.requests} == {
        b["id"] for b in receiver.bodies()
    }
    log = api.get(f"webhooks/{sub['id']}/deliveries").json()
    assert [d["state"] for d in log] == ["delivered"] * 4
    assert log[0]["tries"][0]["status_code"] == 200
    assert log[0]["tries"][0]["address"] == "127.0.0.1"
    run_once()
    assert len(receiver.requests) == 4  # each once


def test_a_timer_that_fires_is_an_event_of_its_own(
    world, app_consumers, receiver, desk_admin, local_allowed, clock
):
    subscribe(desk_admin, world, receiver.url, ["ticket.timer_fired"])
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="resolve", comment="ok")
    run_once()
    assert receiver.requests == []
    clock.advance(days=8)
    run_once()
    (fired,) = receiver.bodies()
    assert fired["type"] == "ticket.timer_fired" and fired["change"]["cause"]["timer"]
    assert fired["ticket"]["status"] == "closed"


def test_no_delivery_to_a_private_address_without_an_administrators_allowance(
    world, app_consumers, receiver, desk_admin, clock
):
    api = Api(desk_admin)
    for url in (
        receiver.url,
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "ftp://example.org/",
        "http://user:pw@example.org/",
    ):
        refused = api.post(f"desks/{world.desk.pk}/webhooks", {"url": url})
        assert refused.status_code == 422 and "url" in refused.json()["errors"], url
    # Allowed when subscribing, then the allowance is withdrawn: the delivery is refused.
    allowance = AllowedNetwork.objects.create(network="127.0.0.0/8")
    subscription_create(actor=desk_admin, desk=world.desk, url=receiver.url)
    allowance.delete()
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    run_once()
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    (attempt,) = delivery.tries.all()
    assert "private or local" in attempt.error
    assert delivery.state == "pending" and delivery.attempts == 1
    # Once an administrator allows the range again, the retry goes through.
    AllowedNetwork.objects.create(network="127.0.0.1")
    clock.advance(minutes=1)
    run_once()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().state == "delivered"


def test_the_connection_goes_to_the_address_that_was_checked(
    world, app_consumers, receiver, desk_admin, local_allowed, monkeypatch
):
    """A DNS answer that changes between the check and the connection (rebinding) cannot
    redirect the request: the host is resolved once and the checked address is used."""
    real = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.example":  # an address, not a name: nothing to look up
            return real(host, port, *args, **kwargs)
        answers.append(host)
        address = "127.0.0.1" if len(answers) == 1 else "127.0.0.2"  # nothing listens on .2
        return real(address, port, *args, **kwargs)

    subscription_create(
        actor=desk_admin, desk=world.desk, url=f"http://hooks.example:{receiver.port}/in"
    )
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    run_once()
    assert answers == ["hooks.example"]
    assert len(receiver.requests) == 1
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example:{receiver.port}"


def test_failures_back_off_then_succeed(
    world, app_consumers, receiver, desk_admin, local_allowed, clock
):
    receiver.status = 500
    subscribe(desk_admin, world, receiver.url)
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    run_once()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert (delivery.next_attempt_at - clock()).total_seconds() == 60
    run_once()
    assert len(receiver.requests) == 1  # not yet due
    clock.advance(minutes=1)
    run_once()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and (delivery.next_attempt_at - clock()).total_seconds() == 300
    receiver.status = 204
    clock.advance(minutes=5)
    run_once()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(receiver.requests)) == ("delivered", 3, 3)
    assert [t.status_code for t in delivery.tries.all()] == [500, 500, 204]
    assert WebhookSubscription.objects.get().consecutive_failures == 0
    # redirects are failures: they are not followed
    receiver.status = 302
    services.ticket_create(actor=world.alice, desk=world.desk, title="y")
    run_once()
    latest = WebhookDelivery.objects.order_by("-id").first()
    assert latest.state == "pending" and "redirects" in latest.tries.get().error


def test_a_delivery_gives_up_and_a_failing_subscription_is_switched_off(
    world, app_consumers, receiver, desk_admin, local_allowed, clock, settings
):
    settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS = 2
    settings.CASEDESK_WEBHOOK_DISABLE_AFTER = 3
    receiver.status = 503
    sub, api = subscribe(desk_admin, world, receiver.url)
    services.ticket_create(actor=world.alice, desk=world.desk, title="one")
    run_once()
    clock.advance(minutes=1)
    run_once()
    first = WebhookDelivery.objects.get()
    assert (first.state, first.attempts, first.next_attempt_at) == ("failed", 2, None)
    services.ticket_create(actor=world.alice, desk=world.desk, title="two")
    run_once()
    subscription = WebhookSubscription.objects.get()
    assert not subscription.active and "3 failed attempts" in subscription.disabled_reason
    services.ticket_create(actor=world.alice, desk=world.desk, title="three")
    clock.advance(hours=1)
    run_once()
    assert len(receiver.requests) == 3  # nothing more while switched off
    receiver.status = 200
    back = api.patch(f"webhooks/{sub['id']}", {"active": True})
    assert back.status_code == 200 and back.json()["consecutive_failures"] == 0
    clock.advance(hours=1)
    run_once()
    assert WebhookDelivery.objects.filter(state="delivered").count() == 1  # "two" retried


def test_preparing_the_same_history_twice_sends_once(world, app_consumers, desk_admin):
    subscription_create(actor=desk_admin, desk=world.desk, url="https://example.org/hook")
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    from casedesk.tickets.models import TicketEvent

    events = list(TicketEvent.objects.all())
    deliveries_prepare(events)
    deliveries_prepare(events)
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "address,public",
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address to refuse, not to bind)
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::1", False),
        ("64:ff9b::7f00:1", False),
    ],
)
def test_which_addresses_count_as_public(address, public):
    import ipaddress

    from casedesk.webhooks.net import is_public

    assert is_public(ipaddress.ip_address(address)) is public


def test_an_sla_breach_that_moves_a_ticket_is_its_own_event(world, app_consumers, desk_admin):
    """SLAs will raise `sla_breached` on tickets; where the workflow reacts, webhooks say so."""

    from casedesk.desks.models import StaffMembership
    from tests.conftest import make_desk

    desk = make_desk("assu", "ASU", [world.org_a], {world.agent: "agent"})
    StaffMembership.objects.create(desk=desk, user=desk_admin, role="admin")
    subscription_create(
        actor=desk_admin, desk=desk, url="https://example.org/in", events=["ticket.sla_breached"]
    )
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="slow")
    assert services.ticket_fire_event(ticket_id=ticket.pk, event="sla_breached")
    deliver_all()  # prepare the deliveries only: nothing is sent to example.org
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event_type == "ticket.sla_breached"
    assert delivery.payload["change"]["cause"]["event"] == "sla_breached"


def test_preparing_a_batch_costs_the_same_few_statements_for_any_size(
    world, app_consumers, desk_admin, django_assert_num_queries
):
    from casedesk.tickets.models import TicketEvent

    subscription_create(actor=desk_admin, desk=world.desk, url="https://example.org/hook")
    for n in range(6):
        t = services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}")
        services.comment_add(actor=world.alice, ticket=t, body="hi")
    events = list(TicketEvent.objects.select_related("ticket", "actor"))
    # subscriptions, workflow checksums, comments, the insert
    with django_assert_num_queries(4):
        deliveries_prepare(events)
    assert WebhookDelivery.objects.count() == 12


def test_a_delivery_queued_twice_is_sent_once(
    world, app_consumers, receiver, desk_admin, local_allowed, clock
):
    from casedesk.webhooks.sending import claim, delivery_attempt

    subscribe(desk_admin, world, receiver.url)
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    deliver_all()
    WebhookDelivery.objects.update(state="queued", queued_at=clock())
    as_the_other_task_read_it = WebhookDelivery.objects.get()
    clock.advance(seconds=1)
    assert delivery_attempt(as_the_other_task_read_it.pk) is True
    WebhookDelivery.objects.update(state="queued")  # still queued, as while sending
    assert not claim(as_the_other_task_read_it, clock())
    assert len(receiver.requests) == 1
