"""The worker's kept statements give what the ORM gives: the same instances from a
prepared read, the same rows from a kept insert, update and delete."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import F

from casedesk.common.rows import (
    Prepared,
    delete_row,
    fields_of,
    insert_row,
    insert_rows,
    update_row,
)
from casedesk.tickets.models import OutboxItem, Ticket, TicketEvent, TicketTimer


def _same(a, b) -> None:
    assert type(a) is type(b)
    for field in type(a)._meta.concrete_fields:
        assert getattr(a, field.attname) == getattr(b, field.attname), field.name


_ticket = Prepared(
    lambda pk: (
        Ticket.objects.select_related("desk", "team")
        .annotate(workflow_checksum=F("workflow__checksum"))
        .filter(pk=pk)
    )
)


def test_a_prepared_read_gives_what_the_query_set_gives(ticket):
    ticket.flags = ["sla_missed", "vip"]  # a JSON column, read back through its converter
    ticket.save()
    orm = (
        Ticket.objects.select_related("desk", "team")
        .annotate(workflow_checksum=F("workflow__checksum"))
        .get(pk=ticket.pk)
    )
    for _ in range(2):  # built once, then run from the kept statement
        (kept,) = _ticket(ticket.pk)
        _same(kept, orm)
        assert kept.flags == ["sla_missed", "vip"]
        assert kept.created_at == orm.created_at and kept.created_at.tzinfo is not None
        assert kept.workflow_checksum == orm.workflow_checksum
        _same(kept.desk, orm.desk)  # from select_related, with no statement of its own
        assert kept.team is None
        assert not kept._state.adding
    assert _ticket(ticket.pk + 1000) == []
    assert _ticket.one(ticket.pk + 1000) is None


def test_a_prepared_read_takes_several_parameters_in_their_places(world, ticket):
    by_desk_and_key = Prepared(
        lambda desk, pk: Ticket.objects.filter(desk_id=desk, pk=pk, title__startswith="Pr"), 2
    )
    assert [t.pk for t in by_desk_and_key(world.desk.pk, ticket.pk)] == [ticket.pk]
    assert by_desk_and_key(world.other_desk.pk, ticket.pk) == []


def test_a_parameter_that_does_not_reach_the_statement_is_refused(ticket):
    unused = Prepared(lambda pk: Ticket.objects.filter(pk=ticket.pk))
    with pytest.raises(ValueError, match="once"):
        unused(ticket.pk)


def test_a_locking_prepared_read_runs_in_its_transaction(ticket):
    locking = Prepared(lambda pk: Ticket.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert [t.pk for t in locking(ticket.pk)] == [ticket.pk]


def test_a_kept_insert_writes_what_save_writes(ticket):
    event = TicketEvent(
        ticket=ticket,
        desk_id=ticket.desk_id,
        at=ticket.created_at,
        actor_kind="system",
        channel="system",
        kind="flagged",
        public=False,
        data={"flag": "vip", "nested": {"n": 1}},
    )
    insert_row(event)
    assert event.pk is not None and not event._state.adding
    _same(TicketEvent.objects.get(pk=event.pk), event)
    item = OutboxItem(event=event, consumer="webhooks", next_attempt_at=event.at)
    insert_row(item)  # a field left to its default (attempts) takes it, as save() does
    stored = OutboxItem.objects.get(pk=item.pk)
    assert (stored.attempts, stored.last_error, stored.held_at) == (0, "", None)
    insert_rows([OutboxItem(event=event, consumer=name, next_attempt_at=event.at) for name in "ab"])
    insert_rows([])
    rows = OutboxItem.objects.filter(event=event, consumer__in="ab").order_by("consumer")
    assert [(r.consumer, r.attempts, r.next_attempt_at) for r in rows] == [
        ("a", 0, event.at),
        ("b", 0, event.at),
    ]


def test_a_kept_update_and_delete_touch_the_one_row(world, ticket):
    other = Ticket.objects.exclude(pk=ticket.pk).first() or ticket
    ticket.title, ticket.flags = "Renamed", ["x"]
    update_row(ticket, ("title", "flags"))
    assert Ticket.objects.get(pk=ticket.pk).title == "Renamed"
    assert Ticket.objects.get(pk=ticket.pk).flags == ["x"]
    if other.pk != ticket.pk:
        assert Ticket.objects.get(pk=other.pk).title != "Renamed"
    ticket.title = "Whole row"
    update_row(ticket, fields_of(Ticket))
    _same(Ticket.objects.get(pk=ticket.pk), ticket)
    TicketTimer.objects.filter(ticket=ticket).delete()
    timer = TicketTimer(
        ticket=ticket,
        desk_id=ticket.desk_id,
        timer="quiet_close",
        transition="close",
        due_at=ticket.created_at,
        ticket_version=ticket.version,
    )
    insert_row(timer)  # a primary key of its own (the ticket's), not a sequence's
    assert timer.pk == ticket.pk
    assert TicketTimer.objects.get(pk=ticket.pk).timer == "quiet_close"
    assert delete_row(TicketTimer, ticket.pk) == 1
    assert delete_row(TicketTimer, ticket.pk) == 0
    assert not TicketTimer.objects.filter(ticket=ticket).exists()


def test_a_prepared_read_is_prepared_on_postgresql_and_logged_with_its_values(ticket):
    """On PostgreSQL the kept read is bound on the server, so its text is the same every
    time and the connection prepares it (the server stops planning it); the statement
    is still counted and logged as Django logs its own, with the values written in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        for _ in range(7):
            (kept,) = _ticket(ticket.pk)
            assert kept.pk == ticket.pk and kept.created_at.tzinfo is not None
    assert len(queries.captured_queries) == 7
    logged = queries.captured_queries[-1]["sql"]
    assert f'"tickets_ticket"."id" = {ticket.pk}' in logged and "$1" not in logged
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE statement LIKE %s AND statement LIKE %s",
            ['%FROM "tickets_ticket"%', "%$1%"],
        )
        assert cursor.fetchone()[0] >= 1
