"""A workflow file with any problem is refused whole, naming file, line and fix."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from casedesk.workflow import (
    Snapshot,
    WorkflowError,
    check_files,
    flags_triggered,
    load_text,
    preset_paths,
    triggered,
)
from casedesk.workflow.loader import PRESETS

DEFAULT = (PRESETS / "default.yaml").read_text(encoding="utf-8")

MINIMAL = textwrap.dedent(
    """\
    workflow: tiny
    version: 1
    name: {en: Tiny}
    languages: [en]
    types:
      task: {label: {en: Task}}
    priorities:
      normal: {label: {en: Normal}}
    statuses:
      open:
        initial: true
        category: open
        turn: supplier
        label: {en: Open}
        explain: {en: We work on it.}
      waiting:
        category: waiting
        turn: customer
        label: {en: Waiting for you}
        explain: {en: Answer us.}
      done:
        category: closed
        turn: nobody
        label: {en: Done}
        explain: {en: Finished.}
    transitions:
      ask:
        label: {en: Ask}
        from: [open]
        to: waiting
        by: [staff]
      answer:
        label: {en: Answer}
        from: [waiting]
        to: open
        by: [customer]
      finish:
        label: {en: Finish}
        from: [open]
        to: done
        by: [staff]
    """
)


def problems(text: str) -> list:
    with pytest.raises(WorkflowError) as caught:
        load_text(text, "flow.yaml")
    return caught.value.problems


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def test_minimal_and_presets_load():
    wf = load_text(MINIMAL, "tiny.yaml")
    assert wf.initial == "open"
    assert check_files(preset_paths()) == []


def test_unknown_key_names_its_line_and_the_whole_file_is_refused():
    text = MINIMAL.replace("    to: done\n", "    to: done\n    colour: red\n")
    (problem,) = problems(text)
    assert problem.file == "flow.yaml"
    assert problem.line == line_of(text, "colour: red")
    assert "unknown key 'colour'" in problem.message
    assert problem.fix


def test_all_problems_are_listed_at_once_with_suggestions():
    text = MINIMAL.replace("to: done", "to: dnoe").replace("by: [customer]", "by: [custmer]")
    found = problems(text)
    messages = {p.message: p for p in found}
    assert "unknown status 'dnoe'" in messages
    assert messages["unknown status 'dnoe'"].line == line_of(text, "to: dnoe")
    assert "did you mean 'done'" in messages["unknown status 'dnoe'"].fix
    assert "unknown role 'custmer'" in messages
    assert str(found[0]).startswith("flow.yaml:")


@pytest.mark.parametrize(
    ("change", "expected", "needle"),
    [
        # unreachable status
        (
            (
                "  finish:\n    label: {en: Finish}\n    from: [open]\n    to: done",
                "  finish:\n    label: {en: Finish}\n    from: [waiting]\n    to: open",
            ),
            "status 'done' cannot be reached",
            "  done:",
        ),
        # dead end: a non-final status with no way out
        (
            (
                "  answer:\n    label: {en: Answer}\n    from: [waiting]",
                "  answer:\n    label: {en: Answer}\n    from: [done]",
            ),
            "'waiting' is a dead end",
            "  waiting:",
        ),
        # customer's turn, but no customer action
        (("by: [customer]", "by: [staff]"), "is the customer's turn", "  waiting:"),
        # two initial statuses
        (
            ("    category: waiting", "    initial: true\n    category: waiting"),
            "2 initial statuses",
            None,
        ),
        # a missing translation
        (("languages: [en]", "languages: [en, da]"), "no 'da' text", "name: {en: Tiny}"),
        # a duplicate key
        (("  ask:\n", "  ask:\n    label: {en: Again}\n"), "'label' is given twice", None),
        # YAML 1.1 booleans stay words, so a status named `no` is a string, not false
        (("turn: nobody", "turn: no"), "turn", "turn: no"),
    ],
)
def test_checks(change, expected, needle):
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    found = problems(text)
    match = [p for p in found if expected in p.message]
    assert match, [str(p) for p in found]
    if needle is not None:
        first_line = needle.split("\n")[0]
        assert match[0].line == line_of(text, first_line)


def test_a_return_does_not_make_a_status_reachable_that_nothing_leads_to():
    """A return leads back only where the ticket has been: a status that merely has a
    way into the returning status is not reached through it."""
    limbo = textwrap.dedent(
        """\
          limbo:
            category: open
            turn: supplier
            label: {en: Limbo}
            explain: {en: Nobody gets here.}
        transitions:
          leave_limbo:
            label: {en: Leave}
            from: [limbo]
            to: waiting
            by: [staff]
        """
    )
    text = MINIMAL.replace("transitions:\n", limbo, 1).replace(
        "    to: open\n    by: [customer]", "    to: previous\n    by: [customer]"
    )
    (problem,) = problems(text)
    assert problem.message == "status 'limbo' cannot be reached from 'open'"
    assert problem.line == line_of(text, "  limbo:")
    assert load_text(text.replace("from: [open]\n    to: waiting", "from: [open]\n    to: limbo"))


def test_timer_needs_a_system_transition_from_where_it_runs():
    text = MINIMAL + textwrap.dedent(
        """\
        timers:
          nudge:
            in: [waiting]
            after: 5d
            transition: finish
            notice: {en: "Closes on {date}"}
        """
    )
    found = [p.message for p in problems(text)]
    assert any("which the system may not make" in m for m in found)
    assert any("does not start at 'waiting'" in m for m in found)


def test_timer_duration_must_make_sense():
    text = MINIMAL.replace("by: [staff]\n", "by: [staff, system]\n", 1) + textwrap.dedent(
        """\
        timers:
          nudge:
            in: [open]
            after: soon
            transition: ask
            notice: {en: "On {date}"}
        """
    )
    (problem,) = problems(text)
    assert "'soon' is not a duration" in problem.message
    assert problem.line == line_of(text, "after: soon")


def test_a_timer_warning_must_come_before_the_timer():
    base = MINIMAL.replace("by: [staff]\n", "by: [staff, system]\n", 1)
    timer = textwrap.dedent(
        """\
        timers:
          nudge:
            in: [open]
            after: 2d
            transition: ask
            notice: {en: "On {date}"}
            warn_before: WARN
        """
    )
    wf = load_text(base + timer.replace("WARN", "1d 12h"))
    assert wf.timers["nudge"].warn_before.total_seconds() == 36 * 3600
    (problem,) = problems(base + timer.replace("WARN", "2d"))
    assert "is not shorter than the timer" in problem.message
    assert problem.line == line_of(base + timer, "warn_before: WARN")
    (problem,) = problems(base + timer.replace("WARN", "later"))
    assert "'later' is not a duration" in problem.message


def test_forward_only_workflow_refuses_backward_transitions():
    text = (
        MINIMAL.replace("version: 1", "version: 1\norder: forward")
        .replace("    initial: true\n", "    initial: true\n    rank: 1\n")
        .replace("    category: closed\n", "    category: closed\n    rank: 3\n")
        .replace("    category: waiting\n", "    category: waiting\n    rank: 2\n")
    )
    found = [p.message for p in problems(text)]
    assert any("goes back from 'waiting' to 'open'" in m for m in found)
    fixed = text.replace(
        "    to: open\n    by: [customer]", "    to: open\n    by: [customer]\n    reopen: true"
    )
    assert load_text(fixed).order == "forward"


def test_not_yaml_and_not_a_mapping():
    (problem,) = problems("workflow: [unclosed\n")
    assert "not valid YAML" in problem.message
    (problem,) = problems("- just\n- a list\n")
    assert "mapping" in problem.message


def test_anchors_are_refused():
    text = MINIMAL.replace("label: {en: Open}", "label: &l {en: Open}").replace(
        "label: {en: Done}", "label: *l"
    )
    (problem,) = problems(text)
    assert "anchors" in problem.message
    assert problem.line == line_of(text, "&l")


def test_effects_are_checked():
    text = MINIMAL.replace(
        "    to: done\n    by: [staff]",
        "    to: done\n    by: [staff]\n    effects:\n"
        "      - set_priority: huge\n      - teleport: moon",
    )
    found = [p.message for p in problems(text)]
    assert any("'huge' is not a valid value for set_priority" in m for m in found)
    assert any("unknown effect 'teleport'" in m for m in found)


def test_check_files_reports_unreadable_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    (problem,) = check_files([missing])
    assert problem.file == str(missing)
    assert "cannot read" in problem.message


def test_customers_cannot_be_asked_for_a_field_they_may_not_fill_in():
    text = MINIMAL.replace(
        "priorities:", "fields:\n  ref: {label: {en: Ref}}\npriorities:"
    ).replace(
        "    to: open\n    by: [customer]",
        "    to: open\n    by: [customer]\n    requires: [field:ref]",
    )
    (problem,) = problems(text)
    assert "customers may make 'answer' but cannot fill in 'ref'" in problem.message
    assert problem.line == line_of(text, "requires: [field:ref]")


def test_a_transition_may_not_clear_what_its_target_status_requires():
    text = MINIMAL.replace(
        "    category: waiting\n", "    category: waiting\n    requires: [assignee]\n"
    ).replace(
        "    to: waiting\n    by: [staff]",
        "    to: waiting\n    by: [staff]\n    effects: [{assign: none}]",
    )
    (problem,) = problems(text)
    assert "'ask' clears the assignee, but 'waiting' requires one" in problem.message


# -- the promise: every status keeps what it tells each customer --------------------------


@pytest.mark.parametrize(
    ("change", "expected", "needle"),
    [
        # only the reporter may answer, so a colleague who is told "your turn" has nothing
        (
            ("by: [customer]", "by: [reporter]"),
            "a colleague of the reporter has nothing to do there",
            "  waiting:",
        ),
        # whose turn it is names a role that is not on the customer's side
        (
            ("    turn: customer\n", "    turn: customer\n    waits_for: [agent]\n"),
            "'agent' is not a role on the customer's side",
            "waits_for: [agent]",
        ),
        # whose turn on the customer's side, on a status that is the supplier's turn
        (
            ("    turn: supplier\n", "    turn: supplier\n    waits_for: [reporter]\n"),
            "waits_for says whose turn it is on the customer's side",
            "waits_for: [reporter]",
        ),
        # "nobody's turn" (the page says there is nothing to do) beside a customer's button
        (
            (
                "    category: waiting\n    turn: customer",
                "    category: waiting\n    turn: nobody",
            ),
            "says it is nobody's turn, but a customer may make 'answer'",
            "  waiting:",
        ),
        # a placeholder no page fills in
        (
            ("explain: {en: Answer us.}", 'explain: {en: "Answer us by {deadline}."}'),
            "'{deadline}' is not filled in for this text",
            "Answer us by {deadline}",
        ),
        # a cancelled status that asks for a reason only makes sense on a final status
        (
            ("    category: waiting\n", "    category: waiting\n    ask_reason: true\n"),
            "only a closed or cancelled status asks for a reason",
            "ask_reason: true",
        ),
        # new tickets start without an assignee
        (
            ("    initial: true\n", "    initial: true\n    requires: [assignee]\n"),
            "new tickets start here without an assignee",
            "requires: [assignee]",
        ),
    ],
)
def test_promise_checks(change, expected, needle):
    test_checks(change, expected, needle)


def test_waits_for_narrows_the_turn_to_the_people_who_can_act():
    text = MINIMAL.replace("by: [customer]", "by: [reporter]").replace(
        "    turn: customer\n", "    turn: customer\n    waits_for: [reporter]\n"
    )
    wf = load_text(text)
    assert wf.waits_for_at("waiting", "") == {"reporter"}
    assert load_text(MINIMAL).waits_for_at("waiting", "") == {"customer"}


def test_a_reply_the_workflow_declares_moves_the_case_is_a_move():
    text = MINIMAL.replace("by: [customer]", "by: [system]") + textwrap.dedent(
        """\
        events:
          - on: customer_commented
            in: [waiting]
            transition: answer
        """
    )
    assert load_text(text).triggers[0].on == "customer_commented"
    (problem,) = problems(text.replace("on: customer_commented", "on: staff_commented"))
    assert "has nothing to do there" in problem.message


def test_a_status_that_asks_for_a_reason_gets_one_from_every_person():
    text = MINIMAL.replace("    category: closed\n", "    category: closed\n    ask_reason: true\n")
    (problem,) = problems(text)
    assert "'finish' ends a ticket in 'done', which asks for a reason" in problem.message
    assert problem.line == line_of(text, "    to: done")
    assert "requires: [comment]" in problem.fix
    fixed = text.replace(
        "    to: done\n    by: [staff]", "    to: done\n    by: [staff]\n    requires: [comment]"
    )
    assert load_text(fixed).statuses["done"].ask_reason
    # the system gives no reasons and is not asked for one
    timer = textwrap.dedent(
        """\
        timers:
          quiet:
            in: [waiting]
            after: 5d
            transition: expire
            notice: {en: "Closes on {date}."}
        """
    )
    expire = (
        "  expire:\n    label: {en: Expire}\n    from: [waiting]\n    to: done\n    by: [system]\n"
    )
    assert load_text(fixed.replace("transitions:\n", "transitions:\n" + expire) + timer)


def test_the_system_never_enters_a_status_that_requires_an_assignee_without_one():
    text = MINIMAL.replace(
        "    category: closed\n", "    category: closed\n    requires: [assignee]\n"
    ).replace("    to: done\n    by: [staff]", "    to: done\n    by: [staff, system]")
    (problem,) = problems(text)
    assert "from 'open', where it may have no assignee, into 'done'" in problem.message
    assert problem.line == line_of(text, "by: [staff, system]")
    # and people are asked for one by the engine, so staff alone are fine
    assert load_text(text.replace("by: [staff, system]", "by: [staff]"))


def test_flags_are_declared_with_who_sees_them():
    text = MINIMAL.replace(
        "    to: done\n    by: [staff]",
        "    to: done\n    by: [staff]\n    effects:\n      - flag: urgent",
    )
    (problem,) = problems(text)
    assert "flag 'urgent' is not declared" in problem.message
    assert "public: true" in problem.fix
    declared = text.replace(
        "statuses:\n", "flags:\n  urgent:\n    label: {en: URGENT}\nstatuses:\n", 1
    )
    wf = load_text(declared)
    assert wf.flag_label("urgent", "en") == "URGENT" and not wf.flag_public("urgent")
    assert wf.flags_seen(frozenset({"urgent"}), customer=True) == frozenset()
    assert wf.flags_seen(frozenset({"urgent"}), customer=False) == {"urgent"}


def test_an_open_status_that_is_nobodys_turn_needs_something_automatic():
    text = MINIMAL.replace("by: [customer]", "by: [staff]").replace(
        "    turn: customer\n", "    turn: nobody\n"
    )
    (problem,) = problems(text)
    assert "'waiting' is open and nobody's turn, but nothing moves" in problem.message
    assert problem.line == line_of(text, "  waiting:")
    timer = textwrap.dedent(
        """\
        timers:
          expire:
            in: [waiting]
            after: 5d
            transition: finish
            notice: {en: "Closes on {date}."}
        """
    )
    automatic = text.replace(
        "    from: [open]\n    to: done\n    by: [staff]",
        "    from: [open, waiting]\n    to: done\n    by: [staff, system]",
    )
    assert load_text(automatic + timer).turn_at("waiting", "") == "nobody"


def test_a_timer_notice_may_name_only_its_date():
    base = MINIMAL.replace("by: [staff]\n", "by: [staff, system]\n", 1)
    timer = textwrap.dedent(
        """\
        timers:
          nudge:
            in: [open]
            after: 2d
            transition: ask
            notice: {en: "On {date} at {time}"}
        """
    )
    (problem,) = problems(base + timer)
    assert "'{time}' is not filled in for a timer's notice" in problem.message
    assert "{date}" in problem.fix
    assert load_text(base + timer.replace(" at {time}", ""))


def test_a_staff_note_is_checked_like_every_text():
    with_note = MINIMAL.replace(
        "explain: {en: We work on it.}",
        "explain: {en: We work on it.}\n    staff_note: {en: Call the customer first.}",
    )
    assert with_note != MINIMAL
    wf = load_text(with_note, "flow.yaml")
    assert wf.statuses["open"].staff_note == {"en": "Call the customer first."}
    untranslated = with_note.replace("languages: [en]", "languages: [en, da]")
    assert any(
        "no 'da' text" in p.message and p.line == line_of(untranslated, "staff_note:")
        for p in problems(untranslated)
    )
    placeholder = with_note.replace("{en: Call the customer first.}", "{en: 'Call by {date}.'}")
    assert any("'{date}' is not filled in" in p.message for p in problems(placeholder))


def test_an_event_may_raise_a_flag_without_moving_the_ticket():
    events = "events:\n  - on: sla_breached\n    in: [open, waiting]\n    flag: late\n"
    (problem,) = problems(MINIMAL + events)
    assert "flag 'late' is not declared" in problem.message
    assert problem.line == line_of(MINIMAL + events, "    flag: late")
    declared = MINIMAL.replace(
        "statuses:\n", "flags:\n  late:\n    label: {en: Late}\nstatuses:\n", 1
    )
    both = events + "    transition: finish\n"
    (problem,) = problems(declared + both)
    assert "a transition or raises a flag, one of the two" in problem.message
    neither = events.replace("    flag: late\n", "")
    (problem,) = problems(declared + neither)
    assert "one of the two" in problem.message

    wf = load_text(declared + events)
    assert wf.triggers == () and [t.flag for t in wf.flag_triggers] == ["late"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    snap = Snapshot("open", "task", "normal", now, now)
    assert flags_triggered(wf, snap, "sla_breached") == {"late"}
    assert flags_triggered(wf, snap, "sla_warning") == frozenset()
    assert triggered(wf, snap, "sla_breached") is None  # no move
    flagged = replace(snap, flags=frozenset({"late"}))
    assert flags_triggered(wf, flagged, "sla_breached") == frozenset()  # once
    assert flags_triggered(wf, replace(snap, status="done"), "sla_breached") == frozenset()
