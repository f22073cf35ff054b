"""A quote's history entries become webhooks (`quote.sent`, `.accepted`, `.declined`) and a
mail to the organisation's approvers, in their language."""

from __future__ import annotations

from datetime import timedelta

from casedesk.common.clock import now
from casedesk.mail.models import OutboundMail
from casedesk.quotes import services
from casedesk.tickets import outbox
from casedesk.tickets.models import TicketEvent
from casedesk.webhooks.events import event_types
from casedesk.webhooks.models import EVENT_TYPES


def test_quote_history_becomes_webhook_events(world, change_request):
    quote = services.quote_send(
        actor=world.agent,
        ticket=change_request,
        amount="100",
        currency="EUR",
        text="Hundred.",
        valid_until=now().date() + timedelta(days=3),
    )
    services.quote_decline(actor=world.anna, ticket=change_request, quote_id=quote.pk, reason="No")
    kinds = {k for k, _ in EVENT_TYPES}
    typed = [
        t
        for e in TicketEvent.objects.filter(ticket=change_request, kind__startswith="quote_")
        for t in event_types(e)
    ]
    assert typed == ["quote.sent", "quote.declined"] and set(typed) <= kinds
    assert "quote.accepted" in kinds


def test_the_approvers_are_mailed_in_their_language(world, change_request, app_consumers):
    world.anna.language = "da"
    world.anna.save()
    services.quote_send(
        actor=world.agent,
        ticket=change_request,
        hours="4",
        text="Fire timer.",
        valid_until=now().date() + timedelta(days=3),
    )
    outbox.deliver_all()
    mails = OutboundMail.objects.filter(kind="quote_waiting")
    by_person = {m.recipient_id: m for m in mails}
    # the approver and the organisation admin; never a plain member, never another org
    assert set(by_person) == {world.anna.pk, world.ada.pk}
    assert by_person[world.anna.pk].language == "da"
    assert "venter på dit svar" in by_person[world.anna.pk].body_text
