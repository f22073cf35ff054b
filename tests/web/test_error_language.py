"""Errors are said at the edge, in the reader's language: pages in the person's, the API in
Accept-Language's, else the person's, else English; workflow things by their labels."""

from __future__ import annotations

import html

import pytest

from casedesk.common.errors import InvalidInput, Problem
from casedesk.tickets import services
from casedesk.tickets.models import Ticket
from casedesk.web.messages import say
from tests.api.conftest import Api
from tests.helpers import version


def _speaks(user, lang: str) -> None:
    user.language = lang
    user.save()


def test_a_danish_customer_reads_a_wrong_ticket_type_in_danish(client, world):
    _speaks(world.alice, "da")
    client.force_login(world.alice)
    response = client.post(
        "/portal/new/",
        {"desk": world.desk.pk, "title": "Printeren", "type": "raket", "description": "x"},
    )
    assert response.status_code == 422
    page = html.unescape(response.content.decode())
    assert "»raket« er ikke en sagstype på dette servicedesk." in page
    assert "is not a ticket type" not in page
    assert not Ticket.objects.exists()


def test_a_dutch_customer_reads_a_portal_refusal_in_dutch(client, world, ticket):
    _speaks(world.amir, "nl")  # a colleague of the reporter: may not cancel her ticket
    client.force_login(world.amir)
    response = client.post(
        f"/portal/t/{ticket.key}/act/cancel/",
        {"version": version(ticket), "comment": "Niet meer nodig"},
    )
    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert "De stap ‘Annuleren’ staat niet open voor klantleden." in page  # noqa: RUF001
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_a_czech_api_refusal_is_in_czech_with_code_and_params(world, ticket):
    _speaks(world.alice, "cs")
    api = Api(world.alice)
    response = api.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "resolve", "comment": "Hotovo", "version": version(ticket)},
    )
    assert response.status_code == 403
    body = response.json()
    assert (body["code"], body["kind"], body["reason"]) == (
        "transition.role",
        "transition_refused",
        "role",
    )
    assert body["params"] == {"role": "member", "transition": "resolve"}
    assert body["message"] == "Krok „Vyřešit“ není dostupný pro tuto roli (členové zákazníka)."
    assert response["Content-Language"] == "cs"


def test_api_field_errors_carry_code_params_and_words(world):
    _speaks(world.alice, "da")
    response = Api(world.alice).post(
        "tickets", {"desk": world.desk.pk, "title": "x", "type": "raket"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "input.invalid" and body["kind"] == "invalid"
    assert body["errors"]["type"] == {
        "code": "ticket.type.unknown",
        "params": {"value": "raket"},
        "message": "»raket« er ikke en sagstype på dette servicedesk.",
    }


@pytest.mark.parametrize(
    ("own", "header", "expected"),
    [
        ("da", "sv-SE,sv;q=0.9,en;q=0.5", "sv"),  # Accept-Language beats the setting
        ("da", "fr-FR, de;q=0.8", "da"),  # none we speak: the person's own
        ("da", "", "da"),
        ("", "", "en"),  # neither: English
        ("", "nl-BE", "nl"),
    ],
)
def test_accept_language_beats_the_persons_setting_which_beats_english(
    world, ticket, own, header, expected
):
    _speaks(world.amir, own)
    api = Api(world.amir)
    headers = {"Accept-Language": header} if header else {}
    response = api.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "cancel", "comment": "x", "version": version(ticket)},
        headers=headers,
    )
    assert response.status_code == 403
    wf = world.desk.workflow.workflow
    wanted = say(Problem("transition.role", role="member", transition="cancel"), expected, wf)
    assert response.json()["message"] == wanted
    assert response["Content-Language"] == expected


def test_workflow_keys_are_shown_by_their_labels(world):
    wf = world.desk.workflow.workflow
    refused = Problem("transition.role", role="org_admin", transition="cancel")
    assert say(refused, "en", wf) == (
        "The step “Cancel” is not open to customer organisation admins."
    )
    assert say(refused, "nl", wf) == (
        "De stap ‘Annuleren’ staat niet open voor organisatiebeheerders van de klant."  # noqa: RUF001
    )
    needs = Problem("transition.requirement", transition="resolve", missing=["comment"])
    assert say(needs, "sv", wf) == "Steget ”Lös” kräver: en kommentar."


def test_a_service_refusal_names_codes_not_sentences(world):
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create(actor=world.alice, desk=world.desk, title="", type="raket")
    assert caught.value.errors == {
        "title": Problem("input.required"),
        "type": Problem("ticket.type.unknown", value="raket"),
    }
