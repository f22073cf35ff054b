"""Warnings and breaches become webhooks on every desk: from the workflow's move where it
reacts (assu), from the history note where it does not (the default workflow)."""

from casedesk.desks.models import StaffMembership
from casedesk.sla.firing import sla_fire_due
from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from casedesk.tickets.outbox import deliver_all
from casedesk.webhooks.models import WebhookDelivery
from casedesk.webhooks.services import subscription_create
from tests.conftest import make_staff
from tests.helpers import fresh


def test_a_warning_and_a_breach_the_workflow_ignores_are_noted_and_sent(
    world, sla_desk, clock, app_consumers, client
):
    admin = make_staff("deskadmin")
    StaffMembership.objects.create(desk=sla_desk, user=admin, role="admin")
    subscription_create(
        actor=admin,
        desk=sla_desk,
        url="https://example.org/in",
        events=["ticket.sla_warning", "ticket.sla_breached"],
    )
    ticket = services.ticket_create(actor=world.alice, desk=sla_desk, title="quiet")
    version = fresh(ticket).version
    clock.advance(minutes=50)  # past 80 % of the one-hour first response
    assert sla_fire_due() == 1
    clock.advance(minutes=15)
    assert sla_fire_due() == 1
    assert sla_fire_due() == 0
    notes = TicketEvent.objects.filter(ticket=ticket, kind__startswith="sla_")
    assert [(n.kind, n.public, n.data["sla"]["target"]) for n in notes] == [
        ("sla_warning", False, "first_response"),
        ("sla_breached", False, "first_response"),
    ]
    assert fresh(ticket).version == version  # news, not a change to the ticket
    deliver_all()
    sent = WebhookDelivery.objects.order_by("pk")
    assert [d.event_type for d in sent] == ["ticket.sla_warning", "ticket.sla_breached"]
    assert sent[1].payload["change"]["cause"]["sla"]["target"] == "first_response"
    client.force_login(world.agent)
    html = client.get(f"/agent/t/{ticket.key}/").content.decode()
    assert "First response: the service level target was missed" in html
    client.force_login(world.alice)
    assert "target was missed" not in client.get(f"/portal/t/{ticket.key}/").content.decode()
