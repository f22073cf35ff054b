"""The `casedesk` command as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from casedesk.cli import main
from casedesk.workflow import preset_paths

BAD = """\
workflow: broken
version: 1
name: {en: Broken}
languages: [en]
types: {task: {label: {en: Task}}}
priorities: {normal: {label: {en: Normal}}}
statuses:
  open: {initial: true, category: open, turn: supplier, label: {en: Open}, explain: {en: x}}
  lost: {category: waiting, turn: customer, label: {en: Lost}, explain: {en: x}}
transitions:
  close: {label: {en: Close}, from: [open], to: gone, by: [staff]}
"""


def test_workflows_check_all_presets(capsys):
    assert main(["workflows", "check"]) == 0
    assert f"{len(preset_paths())} workflow file(s) OK" in capsys.readouterr().out


def test_workflows_check_prints_one_line_per_problem_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    good = preset_paths()[0]
    assert main(["workflows", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{bad}:11: unknown status 'gone' (fix: use one of: open, lost)"]


def test_the_console_script_runs_without_a_database(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD.replace("to: gone", "to: open"))
    exe = Path(sys.executable).with_name("casedesk")
    result = subprocess.run(
        [str(exe), "workflows", "check", str(bad)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CASEDESK_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "'lost' cannot be reached" in result.stdout
    assert "is the customer's turn" in result.stdout


@pytest.mark.django_db
def test_demo_data_puts_a_ticket_in_every_reachable_place_of_every_preset(capsys):
    from django.core.management import call_command

    from casedesk.desks.models import Desk
    from casedesk.ops.demo import plan
    from casedesk.tickets.models import Ticket, TicketEvent

    call_command("demo")
    out = capsys.readouterr().out
    assert "admin" in out and "casedesk-demo" in out and "acme.approver" in out
    assert Desk.objects.count() == len(preset_paths())
    for desk in Desk.objects.all():
        wf = desk.workflow.workflow
        have = set(Ticket.objects.filter(desk=desk).values_list("status", "sub_status"))
        assert set(plan(wf)) <= have, desk.key_prefix
        assert {s for s, _ in have} == set(wf.statuses), desk.key_prefix
    assert TicketEvent.objects.filter(kind="transition").count() > Ticket.objects.count()
    with pytest.raises(Exception, match="empty"):
        call_command("demo")


@pytest.mark.django_db
def test_demo_history_mails_nobody(app_consumers):
    from casedesk.mail.models import OutboundMail
    from casedesk.ops.demo import demo_load
    from casedesk.ops.worker import run_once
    from casedesk.tickets.models import OutboxItem

    assert {"mail", "webhooks"} <= set(app_consumers)  # the consumers are listening
    demo_load()
    assert not OutboxItem.objects.exists()
    run_once()
    assert not OutboundMail.objects.exists()


@pytest.mark.django_db
def test_demo_shows_dated_next_events_in_each_language_spread_over_people_and_teams():
    """A new user opens timed tickets of organisations that speak the desk's language,
    handled by different people in different teams, with comments that differ."""
    from casedesk.ops.demo import demo_load
    from casedesk.tickets.models import Comment, Ticket, TicketTimer

    demo_load()
    timed = Ticket.objects.filter(pk__in=TicketTimer.objects.values("ticket_id"))
    languages = set(timed.values_list("organisation__language", flat=True))
    assert {"da", "nl", "cs", "sv"} <= languages
    for ticket in timed.select_related("desk__workflow", "organisation"):
        wf = ticket.desk.workflow.workflow
        assert ticket.organisation.language in wf.languages, ticket.key
        assert ticket.timer.due_at > ticket.updated_at  # a date still to come
    for prefix in ("TMS", "SL"):
        speaking = set(
            timed.filter(desk__key_prefix=prefix).values_list("organisation__language", flat=True)
        )
        assert speaking == {"da" if prefix == "TMS" else "cs"}
    assignees = set(
        Ticket.objects.exclude(assignee=None).values_list("assignee__username", flat=True)
    )
    assert {"agent", "agent2", "lead"} <= assignees
    assert Ticket.objects.exclude(team=None).values("team").distinct().count() >= 4
    assert Comment.objects.filter(internal=False).values("body").distinct().count() >= 15
    assert Comment.objects.filter(author__kind="customer").exists()
