"""Reads of a ticket's fields, files, links, followers and history, as each person sees them."""

from __future__ import annotations

import pytest

from casedesk.common.errors import NotFound
from casedesk.desks.services import desk_create, workflow_store
from casedesk.tickets import selectors, services
from casedesk.tickets.attachments import BytesUpload
from casedesk.workflow.loader import PRESETS

TEXTS = "{en: %s, da: %s, nl: %s, cs: %s, sv: %s}"


def fields_workflow():
    """The default workflow with a staff-only field and one customers fill in."""
    source = (PRESETS / "default.yaml").read_text(encoding="utf-8")
    extra = (
        "fields:\n"
        "  internal_ref:\n"
        f"    label: {TEXTS % (('Internal ref',) * 5)}\n"
        "    kind: text\n"
        "    customer_visible: false\n"
        "  order_no:\n"
        f"    label: {TEXTS % (('Order number',) * 5)}\n"
        "    kind: text\n"
        "    customer_editable: true\n"
    )
    source = source.replace("workflow: default", "workflow: with-fields").replace(
        "\nstatuses:", f"\n{extra}statuses:", 1
    )
    return workflow_store(source=source, origin="with-fields.yaml")


@pytest.fixture
def field_desk(world):
    from casedesk.desks.models import StaffMembership

    desk = desk_create(name="Fields", key_prefix="FLD", workflow=fields_workflow())
    desk.organisations.set([world.org_a, world.org_b])
    StaffMembership.objects.create(desk=desk, user=world.agent, role="agent")
    return desk


def test_customers_see_only_the_fields_the_workflow_shows_them(world, field_desk):
    t = services.ticket_create(
        actor=world.alice, desk=field_desk, title="x", fields={"order_no": "PO-1"}
    )
    services.ticket_edit(actor=world.agent, ticket=t, fields={"internal_ref": "CANARY-ref"})
    t.refresh_from_db()
    assert selectors.fields_for(user=world.agent, ticket=t) == {
        "order_no": "PO-1",
        "internal_ref": "CANARY-ref",
    }
    assert selectors.fields_for(user=world.alice, ticket=t) == {"order_no": "PO-1"}
    with pytest.raises(NotFound):
        selectors.fields_for(user=world.bob, ticket=t)


def test_a_transition_that_sets_a_staff_only_field_does_not_show_it_in_public_history(
    world, field_desk
):
    t = services.ticket_create(actor=world.alice, desk=field_desk, title="x")
    services.ticket_transition(
        actor=world.agent,
        ticket=t,
        transition="resolve",
        comment="done",
        fields={"internal_ref": "CANARY-hidden", "order_no": "PO-9"},
    )
    staff = [e.data for e in selectors.history_for(user=world.agent, ticket=t)]
    assert "CANARY-hidden" in repr(staff)
    seen = [e.data for e in selectors.history_for(user=world.alice, ticket=t)]
    assert "CANARY-hidden" not in repr(seen) and "PO-9" in repr(seen)


def test_internal_files_and_foreign_links_stay_hidden(world):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    mine = services.ticket_create(actor=world.alice, desk=world.desk, title="b")
    theirs = services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-b")
    services.attachment_add(actor=world.alice, ticket=t, uploads=[BytesUpload("a.txt", b"hi")])
    services.attachment_add(
        actor=world.agent, ticket=t, uploads=[BytesUpload("n.txt", b"x")], internal=True
    )
    services.ticket_link(actor=world.agent, ticket=t, other=mine)
    services.ticket_link(actor=world.agent, ticket=theirs, other=t)
    assert [a.name for a in selectors.attachments_for(user=world.agent, ticket=t)] == [
        "a.txt",
        "n.txt",
    ]
    assert [a.name for a in selectors.attachments_for(user=world.amir, ticket=t)] == ["a.txt"]
    staff_links = selectors.links_for(user=world.agent, ticket=t)
    assert [(v.other.key, v.outgoing) for v in staff_links] == [
        (mine.key, True),
        (theirs.key, False),
    ]
    assert [v.other.key for v in selectors.links_for(user=world.alice, ticket=t)] == [mine.key]


def test_participants_are_listed_for_those_who_see_the_ticket(world):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    services.participant_add(actor=world.alice, ticket=t, person=world.amir)
    assert [p.user for p in selectors.participants_for(user=world.agent, ticket=t)] == [world.amir]
    with pytest.raises(NotFound):
        selectors.participants_for(user=world.outsider, ticket=t)


def test_list_rows_need_no_second_visibility_check(world, django_assert_num_queries):
    t = services.ticket_create(actor=world.alice, desk=world.desk, title="a")
    row = selectors.ticket_page_for_actor(user=world.alice).tickets[0]
    assert row.pk == t.pk
    with django_assert_num_queries(0):
        selectors.fields_for(user=world.alice, ticket=row)


def test_a_ticket_comes_with_its_people_read_beside_it(world, ticket):
    """The people are read by key beside the ticket, in one statement, not joined; the
    reader is not read again, and each person is the one the ticket names."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casedesk.tickets.models import Ticket

    def read(reader, **kw):
        with CaptureQueriesContext(connection) as q:
            got = selectors.ticket_get_for_actor(user=reader, key=ticket.key, **kw)
        return got, len(q)

    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    services.ticket_assign_customer(actor=world.agent, ticket=ticket, person=world.amir)
    stored = Ticket.objects.get(pk=ticket.pk)
    for reader in (world.alice, world.agent, world.amir):
        bare, without = read(reader, people=False)
        got, together = read(reader)
        assert together == without + 1
        with CaptureQueriesContext(connection) as q:
            people = (got.reporter, got.assignee, got.customer_assignee)
        assert len(q) == 0
        assert [p.pk for p in people] == [
            stored.reporter_id,
            stored.assignee_id,
            stored.customer_assignee_id,
        ]
        assert selectors.people_missing(got) == set()
        assert selectors.people_missing(bare) == {world.alice.pk, world.agent.pk, world.amir.pk}
        with CaptureQueriesContext(connection) as q:
            selectors.attach_people(user=reader, ticket=bare, known={u.pk: u for u in people})
            assert bare.customer_assignee.pk == world.amir.pk
        assert len(q) == 0
    # a reader who is all of the ticket's people costs no statement for them
    services.ticket_assign_customer(actor=world.agent, ticket=ticket, person=world.alice)
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=None)
    _, without = read(world.alice, people=False)
    got, together = read(world.alice)
    assert together == without
    assert got.reporter.pk == got.customer_assignee.pk == world.alice.pk
    assert got.assignee is None
