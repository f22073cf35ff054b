"""The mail the seed processes describe, end to end through the worker and a real SMTP
server: seed 003 (confirmation to every member, comments with a copy to the responsible
staff member) and seed 004 (a reminder before approval by silence; mail from a ticket to
someone without an account, kept on the ticket)."""

from __future__ import annotations

from casedesk.mail.outbound.adhoc import ticket_mail_send
from casedesk.ops.worker import run_once
from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from casedesk.tickets.selectors import history_for
from tests.conftest import make_desk, make_staff

from .conftest import body_of


def test_seed_003_every_member_is_told_and_comments_copy_the_responsible(world, smtp):
    world.org_a.notify_all_members_on_new = True
    world.org_a.save()
    supporter = make_staff("supporter")
    desk = make_desk("sda", "SDA", [world.org_a], {supporter: "agent"})
    case = services.ticket_create(actor=world.alice, desk=desk, title="Robotcelle stopper")
    run_once()
    told = {r for _, rcpts, _ in smtp.received for r in rcpts}
    assert told == {f"{n}@example.org" for n in ("alice", "amir", "anna", "ada")}
    assert all("[SDA-1]" in m["Subject"] for m in smtp.messages())
    smtp.received.clear()
    services.ticket_assign(actor=supporter, ticket=case, assignee=supporter)
    run_once()
    smtp.received.clear()
    services.comment_add(actor=world.alice, ticket=case, body="Den stopper igen kl. 14.")
    run_once()
    (copy,) = smtp.to("supporter@supplier.example")
    assert "Den stopper igen kl. 14." in body_of(copy)


def test_seed_004_a_reminder_in_czech_before_the_work_is_approved_by_silence(world, smtp, clock):
    world.alice.language = "cs"
    world.alice.save()
    consultant = make_staff("konzultant")
    desk = make_desk("servisni_list", "SL", [world.org_a], {consultant: "agent"})
    sheet = services.ticket_create(actor=world.alice, desk=desk, title="Sestava", type="servis")
    services.ticket_assign(actor=consultant, ticket=sheet, assignee=consultant)
    services.ticket_transition(actor=consultant, ticket=sheet, transition="start_work")
    services.ticket_transition(actor=consultant, ticket=sheet, transition="send_for_approval",
                               comment="2 h: sestava opravena.")  # fmt: skip
    run_once()
    approval = [m for m in smtp.to("alice@example.org") if "čeká na vás" in body_of(m)]
    assert approval and "2 h: sestava opravena." in body_of(approval[0])
    smtp.received.clear()
    clock.advance(days=4)
    run_once()
    (reminder,) = smtp.to("alice@example.org")
    text = body_of(reminder)
    assert "Připomínka k SL-1." in text and "automaticky schválena" in text
    assert "7. listopadu 2026" in text  # the date the timer acts, in Czech
    clock.advance(days=1)
    run_once()
    sheet.refresh_from_db()
    assert sheet.status == "hotovo"  # approved by silence, and then the task closes by itself


def test_seed_004_mail_from_a_ticket_to_someone_without_an_account_is_kept(world, smtp):
    consultant = make_staff("konzultant")
    desk = make_desk("servisni_list", "SL", [world.org_a], {consultant: "agent"})
    sheet = services.ticket_create(actor=world.alice, desk=desk, title="Sestava", type="servis")
    sent = ticket_mail_send(actor=consultant, ticket=sheet, to=["ucetni@firma.example"],
                            subject="Výkaz práce", body="Dobrý den, posíláme výkaz.")  # fmt: skip
    run_once()
    (mail,) = smtp.to("ucetni@firma.example")
    assert mail["Subject"] == "[SL-1] Výkaz práce" and mail["Message-ID"] == sent.message_id
    # the customer sees the evidence in the ticket's history
    entry = next(e for e in history_for(user=world.alice, ticket=sheet) if e.kind == "mail_sent")
    assert entry.data["to"] == ["ucetni@firma.example"] and entry.data["mail"] == sent.pk
    assert TicketEvent.objects.filter(kind="mail_sent").count() == 1
