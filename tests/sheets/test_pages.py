"""The sheet on the pages: staff log and correct from the agent's ticket page; everyone at
the customer who may see the ticket sees the sheet in the portal, printable and as the
approved PDF; nobody else finds any of it."""

from __future__ import annotations

from casedesk.ops.worker import run_once
from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import Sheet, TimeEntry
from casedesk.tickets import services

from .conftest import started, submit


def test_staff_log_and_correct_from_the_ticket_page(client, world, sl):
    ticket = started(world, sl)
    client.force_login(world.agent)
    page = client.get(f"/agent/t/{ticket.key}/").content.decode()
    assert f'action="/agent/t/{ticket.key}/log/"' in page and "data-timer" in page
    response = client.post(
        f"/agent/t/{ticket.key}/log/",
        {"minutes": "45", "description": "Sestava upravena.", "kind": "consulting"},
    )
    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.worker, entry.billable) == (45, world.agent, True)
    # a refused entry comes back with the reason and what was typed
    bad = client.post(
        f"/agent/t/{ticket.key}/log/",
        {"minutes": "-5", "description": "Chybně.", "kind": "consulting"},
    )
    assert bad.status_code == 422 and "Chybně." in bad.content.decode()
    # correcting: the form is filled in from the entry
    page = client.get(f"/agent/t/{ticket.key}/?correct={entry.pk}").content.decode()
    assert f'name="corrects" value="{entry.pk}"' in page and "Sestava upravena." in page
    client.post(
        f"/agent/t/{ticket.key}/log/",
        {
            "minutes": "30",
            "description": "Jen půl hodiny.",
            "kind": "consulting",
            "corrects": str(entry.pk),
        },
    )
    assert TimeEntry.objects.get(corrects=entry).minutes == 30
    # customers never reach the staff form
    client.force_login(world.alice)
    assert client.post(f"/agent/t/{ticket.key}/log/", {"minutes": "5"}).status_code == 404
    assert TimeEntry.objects.count() == 2


def test_the_customer_sees_the_sheet_and_strangers_nothing(client, world, sl):
    ticket = started(world, sl)
    sheet_services.work_log(
        actor=world.agent, ticket=ticket, minutes=75, description="Import dat.", kind="consulting"
    )
    ticket = submit(world, ticket)
    services.ticket_transition(actor=world.alice, ticket=ticket, transition="customer_approves")
    run_once()  # prints the approved sheet
    sheet = Sheet.objects.get(ticket=ticket)
    urls = [
        f"/portal/t/{ticket.key}/",
        f"/tickets/{ticket.key}/sheet/",
        f"/tickets/{ticket.key}/sheet/pdf/{sheet.cycle}/",
    ]
    client.force_login(world.amir)  # a colleague of the reporter
    page = client.get(urls[0]).content.decode()
    assert "Import dat." in page and "1:15" in page and sheet.pdf_sha256[:8] in page
    assert "Import dat." in client.get(urls[1]).content.decode()
    pdf = client.get(urls[2])
    assert pdf.status_code == 200 and pdf.content == bytes(sheet.pdf)
    for stranger in (world.bob, world.outsider):
        client.force_login(stranger)
        for url in urls:
            assert client.get(url).status_code == 404, (stranger, url)
    client.logout()
    assert client.get(urls[1]).status_code == 302  # to the login page
