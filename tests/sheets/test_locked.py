"""Locked means locked: once a sheet is approved, every way of writing to its entries is
refused with a reason and changes nothing: the services, the API, the agent's page, the
admin, and on PostgreSQL the database itself."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import Sheet, TimeEntry
from casedesk.tickets import services
from tests.api.conftest import Api
from tests.helpers import fresh

from .conftest import started, submit


@pytest.fixture
def locked(world, sl):
    """An approved sheet with one entry."""
    ticket = started(world, sl)
    entry = sheet_services.work_log(
        actor=world.agent, ticket=ticket, minutes=60, description="Hotovo.", kind="consulting"
    )
    ticket = submit(world, ticket)
    services.ticket_transition(actor=world.alice, ticket=ticket, transition="customer_approves")
    assert Sheet.objects.get(ticket=ticket).state == "approved"
    return fresh(ticket), entry


def snapshot(ticket):
    rows = TimeEntry.objects.filter(ticket=ticket).order_by("pk").values()
    return [dict(r) for r in rows], list(Sheet.objects.filter(ticket=ticket).values())


def test_the_api_refuses_every_write_with_its_reason(world, sl, locked):
    ticket, entry = locked
    before = snapshot(ticket)
    api = Api(world.agent)
    cases = [
        api.post(
            f"tickets/{ticket.key}/time-entries",
            {"minutes": 30, "description": "Víc.", "kind": "consulting"},
        ),
        api.post(f"time-entries/{entry.pk}/corrections", {"minutes": 30, "description": "Méně."}),
        api.patch(f"time-entries/{entry.pk}", {"minutes": 30}),
        api.delete(f"time-entries/{entry.pk}"),
    ]
    for response in cases:
        assert response.status_code == 409, response.content
        body = response.json()
        assert (body["code"], body["kind"]) == ("sheet.locked", "sheet_locked")
        assert "approved or invoiced and locked" in body["message"]
    assert snapshot(ticket) == before
    # the sheet itself reads as locked
    (sheet,) = api.get(f"tickets/{ticket.key}/sheets").json()
    assert (sheet["state"], sheet["locked"], sheet["worked_minutes"]) == ("approved", True, 60)


def test_the_agent_page_refuses_with_its_reason(client, world, sl, locked):
    ticket, entry = locked
    before = snapshot(ticket)
    client.force_login(world.agent)
    page = client.get(f"/agent/t/{ticket.key}/").content.decode()
    assert "The sheet is locked" in page
    assert "?correct=" not in page  # no correction is offered
    for extra in ({}, {"corrects": str(entry.pk)}):
        response = client.post(
            f"/agent/t/{ticket.key}/log/",
            {"minutes": "30", "description": "Víc.", "kind": "consulting", **extra},
        )
        assert response.status_code == 409
        assert "approved or invoiced and locked" in response.content.decode()
    assert snapshot(ticket) == before


def test_the_admin_changes_nothing(client, world, sl, locked):
    ticket, entry = locked
    client.force_login(world.admin)
    admin_client = client
    before = snapshot(ticket)
    base = "/admin/sheets/timeentry/"
    page = admin_client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200
    assert "approved and locked" in page.content.decode()
    assert admin_client.post(f"{base}{entry.pk}/change/", {"minutes": "1"}).status_code == 403
    assert admin_client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"{base}add/", {"minutes": "1"}).status_code == 403
    sheet = Sheet.objects.get(ticket=ticket)
    assert (
        admin_client.post(f"/admin/sheets/sheet/{sheet.pk}/change/", {"state": "open"}).status_code
        == 403
    )
    assert snapshot(ticket) == before


def test_an_open_sheets_entries_are_never_edited_either(world, sl):
    ticket = started(world, sl)
    entry = sheet_services.work_log(
        actor=world.agent, ticket=ticket, minutes=60, description="Práce.", kind="consulting"
    )
    response = Api(world.agent).patch(f"time-entries/{entry.pk}", {"minutes": 30})
    assert (response.status_code, response.json()["code"]) == (409, "sheet.entry.immutable")
    assert Api(world.alice).delete(f"time-entries/{entry.pk}").status_code == 403
    assert Api(world.bob).delete(f"time-entries/{entry.pk}").status_code == 404
    assert TimeEntry.objects.get(pk=entry.pk).minutes == 60


@pytest.mark.postgres(reason="the guard is a PostgreSQL trigger")
def test_the_database_refuses_too(world, sl, locked):
    ticket, entry = locked
    before = snapshot(ticket)
    sheet = Sheet.objects.get(ticket=ticket)
    statements = [
        ("UPDATE sheets_timeentry SET minutes = 1 WHERE id = %s", [entry.pk]),
        ("UPDATE sheets_timeentry SET billable = false WHERE id = %s", [entry.pk]),
        ("DELETE FROM sheets_timeentry WHERE id = %s", [entry.pk]),
        ("UPDATE sheets_sheet SET state = 'open' WHERE id = %s", [sheet.pk]),
        ("UPDATE sheets_sheet SET approved_how = 'staff' WHERE id = %s", [sheet.pk]),
        ("DELETE FROM sheets_sheet WHERE id = %s", [sheet.pk]),
        (
            "INSERT INTO sheets_timeentry (sheet_id, ticket_id, desk_id, organisation_id,"
            " worker_id, day, minutes, kind_id, billable, description, reason, channel,"
            " created_at) SELECT sheet_id, ticket_id, desk_id, organisation_id, worker_id, day,"
            " 5, kind_id, billable, 'x', '', 'web', created_at FROM sheets_timeentry"
            " WHERE id = %s",
            [entry.pk],
        ),
    ]
    for sql, params in statements:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert snapshot(ticket) == before
