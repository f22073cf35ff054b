"""Quotes on the ticket pages: staff send from the agent page, every member of the
organisation reads the quote in the portal in their language, only an approver answers."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import translation

from casedesk.common.clock import now
from casedesk.quotes.models import Quote
from tests.helpers import fresh

from .conftest import UB


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_staff_send_from_the_page_and_the_approver_accepts_in_the_portal(world, change_request):
    agent = client_for(world.agent)
    page = agent.get(f"/agent/t/{change_request.key}/")
    assert page.status_code == 200 and b'id="quote-form"' in page.content
    valid = (now() + timedelta(days=14)).date().isoformat()
    body = {"version": change_request.version, "hours": "", "amount": "12500", "currency": "DKK"}
    refused = agent.post(f"/agent/t/{change_request.key}/quote/", {**body, "text": ""})
    assert refused.status_code == 422 and not Quote.objects.exists()
    answer = agent.post(
        f"/agent/t/{change_request.key}/quote/",
        {**body, "text": "Ny eksport med fravær.", "valid_until": valid},
    )
    assert answer.status_code == 302, answer.content[:500]
    ticket = fresh(change_request)
    assert (ticket.status, ticket.sub_status) == (UB, "aendringsoenske_tilbud_sendt")

    # Alice (a member) reads it in Danish and has no answer to give; Bob does not see it.
    alice = client_for(world.alice)
    world.alice.language = "da"
    world.alice.save()
    with translation.override("da"):
        page = alice.get(f"/portal/t/{ticket.key}/")
    html = page.content.decode()
    assert "Ny eksport med fravær." in html, html[html.find("quotes-heading") - 50 :][:600]
    assert "12500,00 DKK" in html  # in Danish
    assert 'class="quote-answer"' not in html
    assert client_for(world.bob).get(f"/portal/t/{ticket.key}/").status_code == 404
    forged = alice.post(f"/portal/t/{ticket.key}/quote/1/accept/", {"version": ticket.version})
    assert forged.status_code == 403 and Quote.objects.get().state == "sent"
    assert (
        client_for(world.bob)
        .post(f"/portal/t/{ticket.key}/quote/1/accept/", {"version": ticket.version})
        .status_code
        == 404
    )

    # Anna, the approver, declines without a reason: refused, said next to the field.
    anna = client_for(world.anna)
    page = anna.get(f"/portal/t/{ticket.key}/")
    assert page.content.decode().count('class="quote-answer"') == 2
    refused = anna.post(f"/portal/t/{ticket.key}/quote/1/decline/", {"version": ticket.version})
    assert refused.status_code == 422 and Quote.objects.get().state == "sent"
    done = anna.post(f"/portal/t/{ticket.key}/quote/1/accept/", {"version": ticket.version})
    assert done.status_code == 302
    assert Quote.objects.get().state == "accepted"
    ticket = fresh(ticket)
    assert ticket.sub_status == "aendringsoenske_tilbud_accepteret"


def test_staff_record_an_answer_only_when_they_confirm_it(world, change_request):
    agent = client_for(world.agent)
    valid = (now() + timedelta(days=14)).date().isoformat()
    agent.post(
        f"/agent/t/{change_request.key}/quote/",
        {
            "version": change_request.version,
            "hours": "8",
            "text": "Otte timer.",
            "valid_until": valid,
        },
    )
    ticket = fresh(change_request)
    url = f"/agent/t/{ticket.key}/quote/1/accept/"
    unconfirmed = agent.post(url, {"version": ticket.version, "note": "Anna ringede."})
    assert unconfirmed.status_code == 422 and Quote.objects.get().state == "sent"
    assert (
        agent.post(f"/agent/t/{ticket.key}/quote/1/steal/", {"version": ticket.version}).status_code
        == 404
    )
    done = agent.post(url, {"version": ticket.version, "note": "Anna ringede.", "confirm": "1"})
    assert done.status_code == 302
    quote = Quote.objects.get()
    assert (quote.state, quote.on_behalf) == ("accepted", True)
