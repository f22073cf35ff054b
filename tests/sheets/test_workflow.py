"""The workflow drives the sheet (seed 004): submitted on Ke schválení with the announced
automatic approval, returned on Vráceno klientem, approved by the customer, by staff
recording it or by the 5-day timer, and locked once approved; a cancelled ticket carries
no billable work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casedesk.common.errors import InvalidInput
from casedesk.ops.worker import run_once
from casedesk.sheets import services as sheet_services
from casedesk.sheets.errors import SheetLocked
from casedesk.sheets.models import Sheet, TimeEntry
from casedesk.sheets.selectors import sheets_for
from casedesk.tickets import services
from casedesk.tickets.models import TicketTimer
from tests.helpers import fresh

from .conftest import started, submit


def log(world, ticket, minutes=60, **kw):
    return sheet_services.work_log(
        actor=world.agent,
        ticket=ticket,
        minutes=minutes,
        description=kw.pop("description", "Práce na sestavě."),
        kind=kw.pop("kind", "consulting"),
        **kw,
    )


def sheet_of(ticket) -> Sheet:
    return Sheet.objects.get(ticket=ticket, cycle=fresh(ticket).cycle)


def test_submit_return_and_approve_by_the_customer(world, sl, clock):
    ticket = started(world, sl)
    first = log(world, ticket, 120)
    assert sheet_of(ticket).state == "open"

    # sent for approval: the customer is told when it approves itself
    ticket = submit(world, ticket)
    sheet = sheet_of(ticket)
    timer = TicketTimer.objects.get(ticket=ticket)
    assert (sheet.state, sheet.submitted_at, sheet.approves_automatically_at) == (
        "submitted",
        clock(),
        timer.due_at,
    )
    assert timer.due_at == clock() + timedelta(days=5)
    # while the customer looks at it, nothing on it changes
    with pytest.raises(SheetLocked) as caught:
        log(world, ticket)
    assert caught.value.state == "submitted"
    with pytest.raises(SheetLocked):
        sheet_services.work_correct(
            actor=world.agent, entry_id=first.pk, minutes=60, description="Méně."
        )

    # the customer returns it with remarks; the team corrects and logs more
    clock.advance(days=1)
    services.ticket_transition(
        actor=world.alice, ticket=ticket, transition="customer_rejects", comment="Chybí export."
    )
    sheet = sheet_of(ticket)
    assert (sheet.state, sheet.returned_at, sheet.approves_automatically_at) == (
        "returned",
        clock(),
        None,
    )
    sheet_services.work_correct(
        actor=world.agent, entry_id=first.pk, minutes=90, description="Jen 1,5 h."
    )
    log(world, ticket, 30, description="Export doplněn.")

    # submitted again, then approved by a colleague of the reporter
    clock.advance(hours=3)
    ticket = submit(world, ticket)
    clock.advance(days=1)
    services.ticket_transition(actor=world.amir, ticket=ticket, transition="customer_approves")
    sheet = sheet_of(ticket)
    assert (sheet.state, sheet.approved_at, sheet.approved_by, sheet.approved_how) == (
        "approved",
        clock(),
        world.amir,
        "customer",
    )
    (view,) = sheets_for(user=world.alice, ticket=ticket)
    assert (view.worked, view.billed, view.locked) == (120, 120, True)

    # the approved version is printed once, in the organisation's language, with its checksum
    assert not sheet.pdf_sha256
    run_once()
    sheet.refresh_from_db()
    pdf = bytes(sheet.pdf)
    assert pdf.startswith(b"%PDF-")
    import hashlib

    assert sheet.pdf_sha256 == hashlib.sha256(pdf).hexdigest()

    # locked: no new work, no correction, on the services' word
    for attempt in (
        lambda: log(world, ticket),
        lambda: sheet_services.work_correct(
            actor=world.agent, entry_id=first.pk, minutes=1, description="Ne."
        ),
    ):
        with pytest.raises(SheetLocked) as caught:
            attempt()
        assert caught.value.state == "approved"
    assert TimeEntry.objects.filter(ticket=ticket).count() == 3
    # closing keeps it approved
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="finish")
    assert sheet_of(ticket).state == "approved"


def test_the_timer_approves_the_sheet_and_closes_the_ticket(world, sl, clock):
    ticket = started(world, sl)
    log(world, ticket, 45)
    ticket = submit(world, ticket)
    due = sheet_of(ticket).approves_automatically_at
    clock.set(due)
    fired, _ = run_once()
    assert fired == 1
    ticket = fresh(ticket)
    sheet = sheet_of(ticket)
    assert (ticket.status, ticket.category) == ("hotovo", "closed")
    assert (sheet.state, sheet.approved_by, sheet.approved_how, sheet.approved_at) == (
        "approved",
        None,
        "timer",
        due,
    )
    assert sheet.pdf_sha256  # printed by the same worker run


def test_staff_record_an_approval_given_outside_the_portal(world, sl):
    ticket = started(world, sl)
    log(world, ticket)
    ticket = submit(world, ticket)
    services.ticket_transition(
        actor=world.agent,
        ticket=ticket,
        transition="record_approval",
        comment="Schváleno e-mailem.",
    )
    sheet = sheet_of(ticket)
    assert (sheet.state, sheet.approved_by, sheet.approved_how) == (
        "approved",
        world.agent,
        "staff",
    )


def test_cancelling_turns_billable_work_non_billable_with_a_record(world, sl, clock):
    ticket = started(world, sl)
    billable = log(world, ticket, 90)
    unbilled = log(world, ticket, 30, kind="travel")
    clock.advance(hours=1)
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="cancel", comment="Na žádost klienta."
    )
    ticket = fresh(ticket)
    assert ticket.category == "cancelled"
    (view,) = sheets_for(user=world.alice, ticket=ticket)
    # all the work stays on the sheet; none of it is billed
    assert (view.worked, view.billed) == (120, 0)
    correction = TimeEntry.objects.get(corrects=billable)
    assert (
        correction.billable,
        correction.minutes,
        correction.reason,
        correction.logged_by,
        correction.description,
        correction.created_at,
    ) == (False, 90, "cancelled", None, billable.description, clock())
    assert not TimeEntry.objects.filter(corrects=unbilled).exists()
    # and no billable work can be added to it afterwards
    with pytest.raises(InvalidInput) as caught:
        log(world, ticket)
    assert "billable" in caught.value.errors
    log(world, ticket, 15, billable=False, description="Úklid po zrušení.")
