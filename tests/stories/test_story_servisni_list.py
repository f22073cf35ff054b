"""The service-sheet story (seed 004) told through the ticket services and the real worker.

A Czech implementation partner treats every ticket as an electronic service sheet: it is the
record of the work done and the basis of the invoice. The customer approves the finished
work on the ticket itself; on service tickets by changing the status, on other kinds of
work by replying. A customer who stays silent for five days has approved. The clock is
frozen and moved by hand; the approval deadline is fired by `run_once()`, the same code as
`casedesk worker --once`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from casedesk.common.errors import NotFound, TransitionRefused
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent, TicketTimer
from casedesk.tickets.selectors import next_step_for, ticket_get_for_actor
from tests.conftest import make_desk
from tests.helpers import fresh, state

FIVE_DAYS = timedelta(days=5)


@pytest.fixture
def desk(world):
    return make_desk("servisni_list", "SL", [world.org_a, world.org_b], {world.agent: "agent"})


@pytest.fixture
def consultant(world):
    return world.agent


def refused(**kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        services.ticket_transition(**kwargs)
    return caught.value


def system_moves(ticket: Ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind="transition", actor_kind="system"))


def finished_work(world, desk, consultant, title: str, type: str = "servis") -> Ticket:
    """A ticket the consultant has worked on and now sends to the customer for approval."""
    t = services.ticket_create(actor=world.alice, desk=desk, title=title, type=type)
    services.ticket_assign(actor=consultant, ticket=t, assignee=consultant)
    services.ticket_transition(actor=consultant, ticket=t, transition="start_work")
    services.ticket_transition(
        actor=consultant,
        ticket=t,
        transition="send_for_approval",
        comment="2 h: report adjusted and checked with sample data.",
    )
    t = fresh(t)
    assert t.status == "ke_schvaleni"
    return t


def test_a_service_sheet_from_new_to_done_approved_by_silence(world, desk, consultant, clock):
    alice = world.alice

    # The customer raises a service request. It is new and nobody has it yet.
    sheet = services.ticket_create(
        actor=alice,
        desk=desk,
        title="Sestava tržeb neukazuje prosincové doklady",
        description="V měsíční sestavě chybí doklady z prosince.",
        type="servis",
    )
    sheet = fresh(sheet)
    assert sheet.key == "SL-1"
    assert (sheet.status, sheet.category, sheet.turn) == ("novy", "new", "supplier")
    assert next_step_for(user=alice, ticket=sheet, lang="cs").label == "Nový"

    # The team lead gives it to a consultant. Naming a consultant is what "assigned" means,
    # so the ticket moves to Přiřazeno by itself: nobody changes the status by hand.
    clock.advance(hours=1)
    services.ticket_assign(actor=consultant, ticket=sheet, assignee=consultant)
    sheet = fresh(sheet)
    assert (sheet.status, sheet.assignee) == ("prirazeno", consultant)
    assigned, moved = TicketEvent.objects.filter(ticket=sheet).order_by("id")[1:3]
    assert (assigned.kind, assigned.actor_kind, assigned.data) == (
        "assigned",
        "staff",
        {"assignee": [None, consultant.pk]},
    )
    assert (moved.kind, moved.actor_kind, moved.data["transition"]) == (
        "transition",
        "system",
        "assign",
    )
    assert moved.data["cause"] == {"event": "assigned"}
    assert next_step_for(user=alice, ticket=sheet, lang="cs").label == "Přiřazeno"

    # At the planned time the consultant starts the work.
    clock.advance(days=1)
    services.ticket_transition(actor=consultant, ticket=sheet, transition="start_work")
    assert fresh(sheet).status == "realizace"

    # It cannot be solved in support alone. Handing it to development needs the number of
    # the backlog item raised there; without it, or with something that is no number, the
    # hand-over is refused.
    before = state(sheet)
    no_pbi = refused(actor=consultant, ticket=sheet, transition="to_development")
    assert (no_pbi.reason, no_pbi.missing) == ("requirement", ("field:pbi",))
    bad_pbi = refused(
        actor=consultant, ticket=sheet, transition="to_development", fields={"pbi": "PBI-12"}
    )
    assert bad_pbi.reason == "invalid"
    assert state(sheet) == before
    services.ticket_transition(
        actor=consultant, ticket=sheet, transition="to_development", fields={"pbi": "4711"}
    )
    sheet = fresh(sheet)
    assert (sheet.status, sheet.turn, sheet.fields) == ("na_vyvoji", "supplier", {"pbi": "4711"})
    assert next_step_for(user=alice, ticket=sheet, lang="cs").label == "Na vývoji"

    # Development delivers; the fix is tested, and the consultant needs a screenshot.
    clock.advance(days=2)
    services.ticket_transition(actor=consultant, ticket=sheet, transition="to_testing")
    services.ticket_transition(
        actor=consultant,
        ticket=sheet,
        transition="ask_customer",
        comment="Pošlete prosím snímek obrazovky s nastavením sestavy.",
    )
    sheet = fresh(sheet)
    assert (sheet.status, sheet.turn) == ("na_klientovi", "customer")
    step = next_step_for(user=alice, ticket=sheet, lang="cs")
    assert [(a.key, a.target) for a in step.actions] == [("customer_returns", "Vráceno klientem")]

    # On a service ticket the customer's comment alone does not move it; she adds the
    # screenshot and then sets the status to Vráceno klientem herself.
    clock.advance(hours=3)
    services.comment_add(actor=alice, ticket=sheet, body="Snímek přikládám.")
    assert fresh(sheet).status == "na_klientovi"
    services.ticket_transition(actor=alice, ticket=sheet, transition="customer_returns")
    sheet = fresh(sheet)
    assert (sheet.status, sheet.turn) == ("vraceno_klientem", "supplier")
    assert not TicketTimer.objects.filter(ticket=sheet).exists()

    # The consultant finishes and sends the work for approval: five days start now.
    clock.advance(hours=2)
    services.ticket_transition(
        actor=consultant,
        ticket=sheet,
        transition="send_for_approval",
        comment="3 h: sestava opravena, prosincové doklady se zobrazují.",
    )
    sheet = fresh(sheet)
    sent_at = clock()
    assert (sheet.status, sheet.category, sheet.turn) == ("ke_schvaleni", "resolved", "customer")
    timer = TicketTimer.objects.get(ticket=sheet)
    assert (timer.timer, timer.transition, timer.due_at, timer.ticket_version) == (
        "approval_deadline",
        "auto_approve",
        sent_at + FIVE_DAYS,
        sheet.version,
    )
    step = next_step_for(user=alice, ticket=sheet, lang="cs")
    assert step.timer is not None
    assert (step.timer.due_at, step.timer.target) == (sent_at + FIVE_DAYS, "Hotovo")
    assert "automaticky schválena" in step.timer.notice
    assert {a.key for a in step.actions} == {"customer_approves", "customer_rejects"}

    # The customer stays silent. One second before the deadline the worker does nothing.
    # A day before, it writes a warning the customer is mailed (once).
    clock.set(sent_at + FIVE_DAYS - timedelta(seconds=1))
    assert run_once() == (0, 1)
    assert sheet.events.filter(kind="timer_warning").count() == 1
    assert run_once() == (0, 0)
    assert fresh(sheet).status == "ke_schvaleni"
    assert system_moves(sheet)[-1].data["transition"] == "assign"

    # At the deadline the system approves the sheet, exactly once, and the ticket closes by
    # itself (the seed: once the 5 days pass, it closes and is invoiced).
    clock.set(sent_at + FIVE_DAYS)
    fired, _ = run_once()
    assert fired == 1
    sheet = fresh(sheet)
    assert (sheet.status, sheet.category, sheet.turn, sheet.active, sheet.closed_at) == (
        "hotovo",
        "closed",
        "nobody",
        False,
        clock(),
    )
    approvals = [e for e in system_moves(sheet) if e.data["transition"] == "auto_approve"]
    assert len(approvals) == 1
    (approval,) = approvals
    assert (approval.actor, approval.channel, approval.at) == (None, "system", clock())
    assert approval.data["cause"] == {
        "timer": "approval_deadline",
        "due_at": (sent_at + FIVE_DAYS).isoformat(),
    }
    assert not TicketTimer.objects.filter(ticket=sheet).exists()
    clock.advance(days=1)
    assert run_once() == (0, 0)
    assert len(system_moves(sheet)) == 2  # the move to Přiřazeno and the approval
    assert next_step_for(user=alice, ticket=sheet, lang="cs").label == "Hotovo"
    # nothing is left for the supplier to do by hand
    assert refused(actor=consultant, ticket=sheet, transition="finish").reason == "wrong_status"


def test_the_customer_approves_or_returns_a_service_sheet(world, desk, consultant, clock):
    # A colleague of the reporter approves: everyone with access to the organisation's
    # tickets may approve its service sheets.
    approved = finished_work(world, desk, consultant, "Nový tiskový formulář")
    clock.advance(days=1)
    services.ticket_transition(actor=world.amir, ticket=approved, transition="customer_approves")
    approved = fresh(approved)
    assert approved.status == "schvaleno"
    assert not TicketTimer.objects.filter(ticket=approved).exists()
    last = TicketEvent.objects.filter(ticket=approved, kind="transition").last()
    assert (last.actor, last.actor_kind) == (world.amir, "customer")

    # On another sheet the result is wrong. Returning a finished solution asks what is
    # wrong with it; once returned, the sheet will never approve itself.
    returned = finished_work(world, desk, consultant, "Export do účetnictví")
    before = state(returned)
    silent = refused(actor=world.alice, ticket=returned, transition="customer_rejects")
    assert (silent.reason, silent.missing) == ("requirement", ("comment",))
    assert state(returned) == before
    services.ticket_transition(
        actor=world.alice,
        ticket=returned,
        transition="customer_rejects",
        comment="Součty v exportu nesedí.",
    )
    returned = fresh(returned)
    assert (returned.status, returned.turn) == ("vraceno_klientem", "supplier")
    assert not TicketTimer.objects.filter(ticket=returned).exists()
    assert next_step_for(user=world.alice, ticket=returned, lang="cs").timer is None
    clock.advance(days=30)
    assert run_once() == (0, 1)  # only the print of the first, approved sheet
    assert fresh(returned).status == "vraceno_klientem"
    assert not system_moves(returned)[1:]  # only the move to Přiřazeno was the system's


def test_on_implementation_work_the_customer_replies_instead(world, desk, consultant, clock):
    alice = world.alice
    work = finished_work(world, desk, consultant, "Zavedení skladové evidence", "implementace")

    # The customer may not change the status of implementation work...
    before = state(work)
    assert refused(actor=alice, ticket=work, transition="customer_approves").reason == (
        "ticket_type"
    )
    assert (
        refused(
            actor=alice, ticket=work, transition="customer_rejects", comment="Chybí export"
        ).reason
        == "ticket_type"
    )
    assert state(work) == before
    assert next_step_for(user=alice, ticket=work, lang="cs").actions == ()

    # ...but her reply counts: it sends the sheet back to the team, and the approval
    # deadline is gone with it.
    clock.advance(days=2)
    reply = services.comment_add(actor=alice, ticket=work, body="Souhlasíme, děkujeme.")
    work = fresh(work)
    assert (work.status, work.turn) == ("vraceno_klientem", "supplier")
    back = system_moves(work)[-1]
    assert back.data["transition"] == "customer_replied"
    assert back.data["cause"] == {"event": "customer_commented", "comment": reply.pk}
    assert not TicketTimer.objects.filter(ticket=work).exists()

    # The consultant records the approval her reply contained.
    services.ticket_transition(
        actor=consultant,
        ticket=work,
        transition="record_approval",
        comment='Klientka v komentáři: "Souhlasíme, děkujeme."',
    )
    assert fresh(work).status == "schvaleno"


def test_a_question_in_ke_schvaleni_stops_the_clock_until_staff_answer(
    world, desk, consultant, clock
):
    sheet = finished_work(world, desk, consultant, "Úprava faktury")
    sent_at = clock()
    assert TicketTimer.objects.get(ticket=sheet).due_at == sent_at + FIVE_DAYS

    # Day three: the customer asks a question. A service ticket stays where it is, but no
    # one may approve it over her unanswered words.
    clock.advance(days=3)
    services.comment_add(actor=world.alice, ticket=sheet, body="Platí to i pro dobropisy?")
    sheet = fresh(sheet)
    assert (sheet.status, sheet.awaiting_reply_since) == ("ke_schvaleni", clock())
    assert not TicketTimer.objects.filter(ticket=sheet).exists()
    step = next_step_for(user=world.alice, ticket=sheet, lang="cs")
    assert (step.timer, step.reply_pending) == (None, True)
    # the page says what the approval now waits for and what happens once answered
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(world.alice)
    page = browser.get(f"/portal/t/{sheet.key}/").content.decode()
    assert "waits for our answer to your reply" in page
    assert "5 days after our answer" in page
    clock.set(sent_at + timedelta(days=30))
    assert run_once() == (0, 0)
    assert fresh(sheet).status == "ke_schvaleni"

    # The consultant answers; from that answer the customer has five full days again.
    services.comment_add(actor=consultant, ticket=sheet, body="Ano, i pro dobropisy.")
    answered_at = clock()
    assert TicketTimer.objects.get(ticket=sheet).due_at == answered_at + FIVE_DAYS
    clock.advance(days=5, seconds=-1)
    assert run_once() == (0, 1)  # only the reminder for the new due date
    clock.advance(seconds=1)
    assert run_once()[0] == 1
    assert fresh(sheet).status == "hotovo"


def test_cancelling_needs_a_reason_and_other_customers_see_nothing(world, desk, consultant, clock):
    sheet = services.ticket_create(actor=world.alice, desk=desk, title="Školení nových uživatelů")
    services.ticket_assign(actor=consultant, ticket=sheet, assignee=consultant)

    # The customer does not cancel herself, she asks the team; the team must say why, and
    # that nothing on it is billable.
    before = state(sheet)
    assert (
        refused(actor=world.alice, ticket=sheet, transition="cancel", comment="Už netřeba").reason
        == "role"
    )
    no_reason = refused(actor=consultant, ticket=sheet, transition="cancel")
    assert (no_reason.reason, no_reason.missing) == ("requirement", ("comment",))
    assert state(sheet) == before
    services.ticket_transition(
        actor=consultant,
        ticket=sheet,
        transition="cancel",
        comment="Zrušeno na žádost klienta, žádná práce k fakturaci.",
    )
    sheet = fresh(sheet)
    assert (sheet.status, sheet.category, sheet.active, sheet.closed_at) == (
        "zruseno",
        "cancelled",
        False,
        clock(),
    )
    assert next_step_for(user=world.alice, ticket=sheet, lang="cs").label == "Zrušeno"

    # A customer of another organisation uses the same desk but cannot see, comment on or
    # move this sheet: to him it does not exist.
    assert ticket_get_for_actor(user=world.amir, key=sheet.key) == sheet
    with pytest.raises(NotFound):
        ticket_get_for_actor(user=world.bob, key=sheet.key)
    with pytest.raises(NotFound):
        services.comment_add(actor=world.bob, ticket=sheet, body="Co je tohle?")
    open_one = finished_work(world, desk, consultant, "Cizí servisní list")
    before = state(open_one)
    with pytest.raises(NotFound):
        services.ticket_transition(actor=world.bob, ticket=open_one, transition="customer_approves")
    assert state(open_one) == before


def test_the_sheet_records_the_work_and_is_the_invoice_basis(world, desk, consultant, clock):
    """The seed's promise: the ticket is the service sheet of all work done, everyone at
    the customer sees it, the approved sheet is locked and invoiced; a cancelled task has
    nothing to invoice."""
    from casedesk.sheets import invoicing
    from casedesk.sheets.errors import SheetLocked
    from casedesk.sheets.models import Sheet, WorkKind
    from casedesk.sheets.selectors import sheets_for
    from casedesk.sheets.services import work_correct, work_log

    WorkKind.objects.create(desk=desk, slug="konzultace", labels={"cs": "Konzultace"})
    desk.staff.create(user=world.lead, role="lead")

    def log(ticket, minutes, text):
        return work_log(
            actor=consultant, ticket=ticket, minutes=minutes, description=text, kind="konzultace"
        )

    # The consultant logs the work as it is done; a colleague of the reporter sees it all.
    first = services.ticket_create(actor=world.alice, desk=desk, title="Sestava", type="servis")
    services.ticket_assign(actor=consultant, ticket=first, assignee=consultant)
    services.ticket_transition(actor=consultant, ticket=first, transition="start_work")
    entry = log(first, 120, "Analýza sestavy.")
    services.ticket_transition(
        actor=consultant, ticket=first, transition="send_for_approval", comment="Hotovo."
    )
    (view,) = sheets_for(user=world.amir, ticket=first)
    assert (view.sheet.state, view.worked) == ("submitted", 120)

    # The customer returns it; the consultant corrects the time and sends it again.
    services.ticket_transition(
        actor=world.alice, ticket=first, transition="customer_rejects", comment="Jen 1,5 h?"
    )
    work_correct(actor=consultant, entry_id=entry.pk, minutes=90, description="Analýza (1,5 h).")
    services.ticket_transition(
        actor=consultant, ticket=first, transition="send_for_approval", comment="Opraveno."
    )
    services.ticket_transition(actor=world.alice, ticket=first, transition="customer_approves")
    assert Sheet.objects.get(ticket=first).state == "approved"
    with pytest.raises(SheetLocked):
        log(first, 10, "Dodatečně.")

    # A second sheet is approved by silence; the ticket closes by itself.
    second = finished_work(world, desk, consultant, "Tisková šablona")
    clock.advance(days=5)
    run_once()
    assert fresh(second).status == "hotovo"
    assert Sheet.objects.get(ticket=second).approved_how == "timer"

    # A cancelled task has nothing to invoice, though its work stays on the sheet.
    third = services.ticket_create(actor=world.alice, desk=desk, title="Školení", type="servis")
    log(third, 60, "Příprava školení.")
    services.ticket_transition(
        actor=consultant, ticket=third, transition="cancel", comment="Na žádost klienta."
    )
    (cancelled,) = sheets_for(user=world.alice, ticket=third)
    assert (cancelled.worked, cancelled.billed) == (60, 0)

    # The month's invoice basis holds the approved work only, invoiced exactly once.
    period = {"start": "2026-11-01", "end": "2026-11-30"}
    args = {"user": world.lead, "organisation_id": world.org_a.pk, **period}
    basis = invoicing.invoice_basis(**args)
    assert [(r.ticket_key, r.worked) for r in basis.rows] == [(first.key, 90)]
    run = invoicing.invoice_finalise(**args)
    assert Sheet.objects.get(ticket=first).state == "invoiced"
    assert invoicing.invoice_basis(**args).rows == []
    assert bytes(invoicing.invoice_run_get(user=world.lead, run_id=run.pk).csv) == bytes(run.csv)
    # Another organisation sees none of it.
    with pytest.raises(NotFound):
        sheets_for(user=world.bob, ticket=first)
