"""Who may send, accept and decline a quote, tried by everyone who may not (SECURITY-TESTS:
every rule is attacked, and a refusal changes nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casedesk.common.clock import now
from casedesk.common.errors import InvalidInput, NotFound, TransitionRefused
from casedesk.quotes import selectors, services
from casedesk.quotes.models import Quote
from casedesk.tickets import services as ticket_services
from tests.helpers import state

from .conftest import UB


def send(agent, ticket, **kw):
    return services.quote_send(
        actor=agent,
        ticket=ticket,
        text=kw.pop("text", "Ti timer."),
        valid_until=kw.pop("valid_until", now().date() + timedelta(days=7)),
        **({"hours": "10"} | kw),
    )


def quotes_of(ticket):
    return sorted(Quote.objects.filter(ticket=ticket).values_list("number", "state", "decided_by"))


def test_a_customer_cannot_send_a_quote(world, change_request):
    before, rows = state(change_request), quotes_of(change_request)
    for customer in (world.alice, world.anna, world.ada):
        with pytest.raises(TransitionRefused) as caught:
            send(customer, change_request)
        assert caught.value.reason == "role"
    assert (state(change_request), quotes_of(change_request)) == (before, rows)


def test_a_member_without_the_right_to_approve_can_neither_accept_nor_decline(
    world, change_request
):
    quote = send(world.agent, change_request)
    before, rows = state(change_request), quotes_of(change_request)
    for member in (world.alice, world.amir):  # the reporter and a colleague
        with pytest.raises(TransitionRefused) as caught:
            services.quote_accept(actor=member, ticket=change_request, quote_id=quote.pk)
        assert caught.value.reason == "role"
        with pytest.raises(TransitionRefused):
            services.quote_decline(
                actor=member, ticket=change_request, quote_id=quote.pk, reason="Nej."
            )
    assert (state(change_request), quotes_of(change_request)) == (before, rows)
    # the organisation admin stands above the approver, and may
    services.quote_accept(actor=world.ada, ticket=change_request, quote_id=quote.pk)
    assert quotes_of(change_request) == [(1, "accepted", world.ada.pk)]


def test_another_organisation_neither_sees_nor_answers_the_quote(world, change_request):
    quote = send(world.agent, change_request)
    before = state(change_request)
    with pytest.raises(NotFound):
        selectors.quotes_for(user=world.bob, ticket=change_request)
    with pytest.raises(NotFound):
        services.quote_accept(actor=world.bob, ticket=change_request, quote_id=quote.pk)
    with pytest.raises(NotFound):
        services.quote_decline(
            actor=world.bob, ticket=change_request, quote_id=quote.pk, reason="x"
        )
    assert state(change_request) == before and quotes_of(change_request) == [(1, "sent", None)]


def test_everyone_of_the_organisation_sees_the_quote(world, change_request):
    send(world.agent, change_request)
    for person in (world.alice, world.amir, world.anna, world.ada, world.agent):
        (view,) = selectors.quotes_for(user=person, ticket=change_request)
        assert (view.state, view.quote.text) == ("sent", "Ti timer.")


def test_staff_accept_on_behalf_only_with_confirmation_and_a_note(world, change_request):
    quote = send(world.agent, change_request)
    before = state(change_request)
    with pytest.raises(InvalidInput) as caught:
        services.quote_accept(actor=world.agent, ticket=change_request, quote_id=quote.pk)
    assert caught.value.errors["on_behalf"].code == "quote.on_behalf.unconfirmed"
    assert caught.value.errors["note"].code == "input.required"
    with pytest.raises(InvalidInput):
        services.quote_accept(
            actor=world.agent, ticket=change_request, quote_id=quote.pk, on_behalf=True
        )
    with pytest.raises(InvalidInput):
        services.quote_accept(
            actor=world.agent, ticket=change_request, quote_id=quote.pk, note="Ringede."
        )
    # a customer cannot pretend to answer for someone else
    with pytest.raises(InvalidInput) as caught:
        services.quote_accept(
            actor=world.anna, ticket=change_request, quote_id=quote.pk, on_behalf=True
        )
    assert caught.value.errors["on_behalf"].code == "quote.on_behalf.staff_only"
    assert state(change_request) == before and quotes_of(change_request) == [(1, "sent", None)]
    services.quote_accept(
        actor=world.agent,
        ticket=change_request,
        quote_id=quote.pk,
        on_behalf=True,
        note="Anna accepterede i telefonen i dag kl. 10.",
    )
    quote.refresh_from_db()
    assert (quote.state, quote.decided_by, quote.on_behalf) == ("accepted", world.agent, True)


def test_a_plain_move_cannot_skip_the_quote(world, change_request):
    """Neither a staff member's plain "send offer" nor an approver's plain "accept"."""
    with pytest.raises(TransitionRefused) as caught:
        ticket_services.ticket_transition(
            actor=world.agent, ticket=change_request, transition="send_offer"
        )
    assert caught.value.code == "ticket.quote.plain_move"
    send(world.agent, change_request)
    before = state(change_request)
    with pytest.raises(TransitionRefused) as caught:
        ticket_services.ticket_transition(
            actor=world.anna, ticket=change_request, transition="accept_offer"
        )
    assert caught.value.code == "ticket.quote.plain_move"
    assert state(change_request) == before


def test_a_quote_offers_hours_or_an_amount_valid_from_today(world, change_request):
    today = now().date()
    bad = [
        ({"hours": "10", "amount": "100", "currency": "DKK"}, "hours", "quote.offer.one_of"),
        ({"hours": None}, "hours", "quote.offer.one_of"),
        ({"hours": "0"}, "hours", "quote.offer.hours"),
        ({"hours": "abc"}, "hours", "input.invalid"),
        ({"hours": None, "amount": "100", "currency": "D1K"}, "currency", "quote.offer.currency"),
        ({"hours": None, "amount": "-5", "currency": "DKK"}, "amount", "quote.offer.amount"),
        ({"currency": "DKK"}, "currency", "quote.offer.currency_without_amount"),
        ({"valid_until": today - timedelta(days=1)}, "valid_until", "quote.valid_until.past"),
        ({"valid_until": today + timedelta(days=400)}, "valid_until", "quote.valid_until.too_far"),
        ({"valid_until": "31-12-2026"}, "valid_until", "input.invalid"),
        ({"text": "  "}, "text", "input.required"),
    ]
    before = state(change_request)
    for kw, field, code in bad:
        with pytest.raises(InvalidInput) as caught:
            send(world.agent, change_request, **kw)
        assert caught.value.errors[field].code == code, kw
    assert state(change_request) == before and quotes_of(change_request) == []
    assert (change_request.status, change_request.sub_status) == (UB, "aendringsoenske_fra_kunde")
