"""The answer to "where is my case, whose move is it, what can I do, what happens next?"

Derived for one ticket and one viewer, in the viewer's language, from the workflow alone;
nothing here is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .engine import Actor, DueTimer, Snapshot, held_timer, next_timer, options, roles_of
from .spec import CUSTOMER_SIDE, Ref, Status, SubStatus, Transition, Workflow, expand_roles

FIELD_PREFIX = "field:"


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    target: str  # where it leads, as the viewer reads it
    prompt: str  # the question to ask when a comment is required
    needs: tuple[str, ...]  # comment | assignee | customer_assignee | field:<name>
    fields: tuple[Choice, ...]  # fields the viewer must fill in
    sub_choices: tuple[Choice, ...]
    # what the person confirms before the move is made: "ends" (it closes or cancels the
    # ticket), "on_behalf" (staff make a move that is the customer's), or "" (nothing)
    confirm: str = ""


@dataclass(frozen=True)
class Automatic:
    """Something the system will do without anyone acting."""

    action: str  # the transition's label
    target: str  # where the ticket will go
    due_at: datetime | None  # for timers
    notice: str  # the workflow's own words; may hold {date}
    event: str | None = None  # for events: what must happen first
    environment: str | None = None
    since: str = ""  # for timers: entered | last_activity
    after: timedelta | None = None  # for timers: how long after `since`


@dataclass(frozen=True)
class NextStep:
    status: str
    sub_status: str
    label: str  # "Status, Sub-status"
    status_label: str
    sub_label: str
    explanation: str
    sub_explanation: str
    category: str
    turn: str  # supplier | customer | third_party | nobody
    active: bool
    flags: frozenset[str]
    actions: tuple[Action, ...]
    timer: Automatic | None
    events: tuple[Automatic, ...]
    reply_pending: bool  # a customer reply awaits an answer; timers wait for it
    # on the customer's turn: the roles whose turn it is, and whether the viewer is one
    waits_for: frozenset[str] = frozenset()
    viewer_turn: bool = False
    # closing as a duplicate, when this viewer may: made only through the duplicate
    # service (original, links both ways, title prefix), never as a plain move
    duplicate: Action | None = None
    # the timer that reply holds back: it acts only once staff have answered
    held: Automatic | None = None
    # the workflow's words for staff about this place (status, then sub-status); empty for
    # customers, who never read them
    staff_note: str = ""


def _target(wf: Workflow, snap: Snapshot, t: Transition, lang: str) -> str:
    if t.to is None:
        return (
            wf.place_label(snap.previous_status, snap.previous_sub, lang)
            if snap.previous_status
            else ""
        )
    sub = t.to.sub or wf.statuses[t.to.status].default_sub or ""
    return wf.place_label(t.to.status, sub, lang)


def confirmation(wf: Workflow, snap: Snapshot, viewer: Actor, t: Transition) -> str:
    """What a person confirms before making `t`: that it ends the ticket, or that staff
    make it for the customer. The pages ask; the engine's rules stay as they are."""
    target = t.to.status if t.to is not None else snap.previous_status
    if target in wf.statuses and wf.statuses[target].final:
        return "ends"
    if viewer.kind == "staff" and expand_roles(t.by) & CUSTOMER_SIDE:
        return "on_behalf"
    return ""


def viewer_turn(wf: Workflow, snap: Snapshot, viewer: Actor) -> bool:
    """Is it this customer's own turn: the customer's side's, and one of the roles the
    status waits for (`waits_for`, everyone on the customer's side by default)?"""
    if viewer.kind != "customer" or wf.turn_at(snap.status, snap.sub_status) != "customer":
        return False
    waits = wf.waits_for_at(snap.status, snap.sub_status)
    return bool(expand_roles(waits) & roles_of(viewer, snap))


def next_step(wf: Workflow, snap: Snapshot, viewer: Actor, lang: str, now: datetime) -> NextStep:
    status = wf.statuses[snap.status]
    sub = wf.sub_statuses.get(snap.sub_status) if snap.sub_status else None
    actions: list[Action] = []
    duplicate = None
    dup_key = wf.duplicates.transition if wf.duplicates is not None else None
    for option in options(wf, snap, viewer):
        t = option.transition
        if t.key != dup_key:
            actions.append(
                Action(
                    key=t.key,
                    label=wf.text(t.label, lang),
                    target=_target(wf, snap, t, lang),
                    prompt=wf.text(t.prompt, lang),
                    needs=option.needs,
                    fields=tuple(
                        Choice(
                            n[len(FIELD_PREFIX) :],
                            wf.text(wf.fields[n[len(FIELD_PREFIX) :]].label, lang),
                        )
                        for n in option.needs
                        if n.startswith(FIELD_PREFIX)
                    ),
                    sub_choices=tuple(
                        Choice(k, wf.text(wf.sub_statuses[k].label, lang))
                        for k in option.sub_choices
                    ),
                    confirm=confirmation(wf, snap, viewer, t),
                )
            )
        if t.key == dup_key and viewer.kind == "staff":
            duplicate = Action(
                key=t.key,
                label=wf.text(t.label, lang),
                target=_target(wf, snap, t, lang),
                prompt=wf.text(t.prompt, lang),
                needs=option.needs,
                fields=(),
                sub_choices=(),
                confirm="ends",
            )
    timer = _automatic(wf, snap, next_timer(wf, snap), lang)
    held = _automatic(wf, snap, held_timer(wf, snap), lang)
    events = []
    for trigger in wf.triggers:
        if not any(ref.matches(snap.status, snap.sub_status) for ref in trigger.places):
            continue
        t = wf.transitions[trigger.transition]
        if t.types is not None and snap.type not in t.types:
            continue
        events.append(
            Automatic(
                action=wf.text(t.label, lang),
                target=_target(wf, snap, t, lang),
                due_at=None,
                notice="",
                event=trigger.on,
                environment=trigger.environment,
            )
        )
    turn = wf.turn_at(snap.status, snap.sub_status)
    waits = wf.waits_for_at(snap.status, snap.sub_status) if turn == "customer" else frozenset()
    return NextStep(
        status=snap.status,
        sub_status=snap.sub_status,
        label=wf.place_label(snap.status, snap.sub_status, lang),
        status_label=wf.text(status.label, lang),
        sub_label=wf.text(sub.label, lang) if sub else "",
        explanation=wf.text(status.explain, lang),
        sub_explanation=wf.text(sub.explain, lang) if sub else "",
        category=status.category,
        turn=turn,
        active=wf.active_at(snap.status, snap.sub_status),
        flags=wf.flags_seen(snap.flags, customer=viewer.kind == "customer"),
        actions=tuple(actions),
        timer=timer,
        events=tuple(events),
        reply_pending=snap.awaiting_reply_since is not None,
        waits_for=waits,
        duplicate=duplicate,
        viewer_turn=viewer_turn(wf, snap, viewer),
        held=held,
        staff_note=_staff_note(wf, status, sub, lang) if viewer.kind == "staff" else "",
    )


def _staff_note(wf: Workflow, status: Status, sub: SubStatus | None, lang: str) -> str:
    notes = [n for n in (status.staff_note, sub.staff_note if sub else None) if n]
    return " ".join(wf.text(n, lang) for n in notes)


def _automatic(wf: Workflow, snap: Snapshot, due: DueTimer | None, lang: str) -> Automatic | None:
    if due is None:
        return None
    t = wf.transitions[due.timer.transition]
    return Automatic(
        action=wf.text(t.label, lang),
        target=_target(wf, snap, t, lang),
        due_at=due.due_at,
        notice=wf.text(due.timer.notice, lang),
        since=due.timer.since,
        after=due.timer.after,
    )


def place_of(ref: Ref, wf: Workflow, lang: str) -> str:
    return wf.place_label(ref.status, ref.sub or "", lang)
