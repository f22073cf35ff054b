"""Staff send a mail from the agent's ticket page to anyone; the mail and its files stay on
the ticket. Nobody else reaches the form."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.mail.models import OutboundMail
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import TicketEvent


def test_staff_send_a_mail_from_the_ticket_page(client, world, smtp, desk_mail, ticket):
    (log,) = services.attachment_add(
        actor=world.alice, ticket=ticket, uploads=[BytesUpload("log.txt", b"error 42\n")]
    )
    client.force_login(world.agent)
    page = client.get(f"/agent/t/{ticket.key}/").content.decode()
    assert "Send a mail" in page and 'name="attachment_ids"' in page
    ticket.refresh_from_db()
    response = client.post(
        f"/agent/t/{ticket.key}/mail/",
        {
            "version": ticket.version,
            "to": "ops@vendor.example; Boss@Vendor.example",
            "cc": "",
            "subject": "Error 42 at the customer",
            "body": "Could you look at the attached log?",
            "attachment_ids": [str(log.pk)],
            "attachments": [SimpleUploadedFile("note.txt", b"more detail")],
        },
    )
    assert response.status_code == 302
    row = OutboundMail.objects.get(kind="adhoc")
    assert sorted(row.to) == ["boss@vendor.example", "ops@vendor.example"]
    event = TicketEvent.objects.get(ticket=ticket, kind="mail_sent")
    assert [a["name"] for a in event.data["attachments"]] == ["log.txt", "note.txt"]
    run_once()
    (sent,) = smtp.to("ops@vendor.example")
    assert sent["Subject"] == f"[{ticket.key}] Error 42 at the customer"


def test_a_refused_mail_keeps_what_was_typed_and_says_why(client, world, desk_mail, ticket):
    client.force_login(world.agent)
    ticket.refresh_from_db()
    response = client.post(
        f"/agent/t/{ticket.key}/mail/",
        {"version": ticket.version, "to": "not an address", "subject": "S", "body": "Kept text"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Kept text" in page and 'aria-invalid="true"' in page
    assert not OutboundMail.objects.filter(kind="adhoc").exists()


def test_nobody_else_reaches_the_mail_form(client, world, desk_mail, ticket):
    ticket.refresh_from_db()
    data = {"version": ticket.version, "to": "x@y.example", "subject": "S", "body": "B"}
    for who in (world.alice, world.outsider, world.bob):
        client.force_login(who)
        assert client.post(f"/agent/t/{ticket.key}/mail/", data).status_code == 404
    assert not OutboundMail.objects.filter(kind="adhoc").exists()


def test_a_file_id_too_large_for_the_database_is_a_clear_refusal(world, desk_mail, ticket):
    import pytest

    from casedesk.common.errors import InvalidInput
    from casedesk.mail.outbound.adhoc import ticket_mail_send

    for ids in ([10**30], ["99999999999999999999"], [-1], ["x"]):
        with pytest.raises(InvalidInput) as refused:
            ticket_mail_send(
                actor=world.agent,
                ticket=ticket,
                to=["someone@example.net"],
                subject="files",
                body="see attached",
                attachment_ids=ids,
            )
        assert "attachment_ids" in refused.value.errors
    assert not OutboundMail.objects.exists()
