"""History is append-only: no path through the model, its querysets, the admin or (on
PostgreSQL) plain SQL changes or removes an entry, or removes a ticket that has one."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from casedesk.tickets import services
from casedesk.tickets.models import AppendOnlyError, Ticket, TicketEvent


def _unchanged(ticket, before):
    rows = list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values())
    assert rows == before


@pytest.fixture
def history(ticket, world):
    services.comment_add(actor=world.alice, ticket=ticket, body="more smoke")
    rows = list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values())
    assert len(rows) == 2
    return rows


def test_a_stored_entry_is_neither_saved_again_nor_deleted(ticket, history):
    event = TicketEvent.objects.filter(ticket=ticket).first()
    event.kind = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    _unchanged(ticket, history)


@pytest.mark.parametrize(
    "write",
    [
        lambda t: TicketEvent.objects.filter(ticket=t).update(kind="tampered"),
        lambda t: TicketEvent.objects.all().delete(),
        lambda t: t.events.update(public=False),
        lambda t: t.events.all().delete(),
        lambda t: TicketEvent.objects.bulk_update(
            [TicketEvent(pk=e.pk, kind="tampered") for e in t.events.all()], ["kind"]
        ),
        lambda t: TicketEvent.objects.update_or_create(
            pk=t.events.first().pk, defaults={"kind": "tampered"}
        ),
    ],
    ids=["update", "delete", "related-update", "related-delete", "bulk_update", "upsert"],
)
def test_querysets_refuse_to_change_or_remove_entries(ticket, history, write):
    with pytest.raises(AppendOnlyError), transaction.atomic():
        write(ticket)
    _unchanged(ticket, history)


def test_a_ticket_with_history_cannot_be_deleted(ticket, history):
    with pytest.raises(ProtectedError):
        ticket.delete()
    with pytest.raises(ProtectedError):
        Ticket.objects.filter(pk=ticket.pk).delete()
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    _unchanged(ticket, history)


def test_the_admin_deletes_neither_tickets_nor_entries(world, ticket, history, client):
    client.force_login(world.admin)
    event = TicketEvent.objects.filter(ticket=ticket).first()
    for url in (
        f"/admin/tickets/ticket/{ticket.pk}/delete/",
        f"/admin/tickets/ticketevent/{event.pk}/delete/",
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"}
    response = client.post("/admin/tickets/ticket/", bulk)
    assert response.status_code == 200  # the list again: the action is not offered
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    _unchanged(ticket, history)


@pytest.mark.postgres(reason="the append-only triggers exist on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tickets_ticketevent SET kind = 'tampered' WHERE ticket_id = %s",
        "DELETE FROM tickets_ticketevent WHERE ticket_id = %s",
        "DELETE FROM tickets_ticket WHERE id = %s",
    ],
    ids=["update-entry", "delete-entry", "delete-ticket"],
)
def test_the_database_refuses_plain_sql(ticket, history, sql):
    refused = pytest.raises(DatabaseError, match=r"append-only|has history")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [ticket.pk])
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    _unchanged(ticket, history)
