"""Decisions on one ticket: what may this actor do now, what happens if they do, and what
will the system do next and when.

Everything here is a pure function of a `Workflow`, a `Snapshot` of the ticket and an
`Actor`. The same `_gate` decides both what is offered and what is accepted, so an actor is
never offered a transition that applying would refuse for the same inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from .spec import (
    CUSTOMER_ROLES,
    STAFF_ROLES,
    SYSTEM,
    Timer,
    Transition,
    Workflow,
    expand_roles,
    starts_at,
)

ActorKind = Literal["customer", "staff", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    role: str  # member | approver | org_admin | agent | lead | admin | system
    user_id: int | None = None


SYSTEM_ACTOR = Actor("system", SYSTEM)


@dataclass(frozen=True)
class Snapshot:
    """What the engine needs to know about a ticket."""

    status: str
    type: str
    priority: str
    entered_at: datetime
    last_activity_at: datetime
    sub_status: str = ""
    fields: Mapping[str, object] = field(default_factory=dict)
    reporter_id: int | None = None
    assignee_id: int | None = None
    customer_assignee_id: int | None = None
    team: str = ""
    flags: frozenset[str] = frozenset()
    awaiting_reply_since: datetime | None = None  # a customer reply nobody has answered yet
    previous_status: str = ""
    previous_sub: str = ""
    progress_rank: int = 0
    cycle: int = 1


@dataclass(frozen=True)
class Given:
    """What the actor supplies with a transition."""

    comment: str = ""
    sub_status: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    assignee_id: int | None = None
    customer_assignee_id: int | None = None


@dataclass(frozen=True)
class Denied:
    """A refusal: its family (`reason`: unknown_transition | wrong_status | role |
    ticket_type | order | requirement | invalid), a registered dotted `code` and the
    parameters its sentence names. Workflow things stay keys; the edge shows labels."""

    reason: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """A transition the actor may make now, and what they must supply for it."""

    transition: Transition
    needs: tuple[str, ...]
    sub_choices: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """The ticket after an allowed transition; the caller persists it."""

    transition: str
    status: str
    sub_status: str
    previous_status: str
    previous_sub: str
    priority: str
    flags: frozenset[str]
    team: str
    assignee: Literal["keep", "actor", "none"]
    customer_assignee: Literal["keep", "reporter", "actor", "none"]
    field_changes: Mapping[str, object]
    cycle: int
    progress_rank: int
    place_changed: bool


@dataclass(frozen=True)
class DueTimer:
    timer: Timer
    due_at: datetime

    @property
    def warn_at(self) -> datetime | None:
        """When the people concerned are warned, if the timer asks for a warning."""
        return self.due_at - self.timer.warn_before if self.timer.warn_before else None


def roles_of(actor: Actor, snap: Snapshot) -> frozenset[str]:
    """The role names `by:` may use that fit this actor on this ticket."""
    roles: set[str] = set()
    for ladder, group in ((CUSTOMER_ROLES, "customer"), (STAFF_ROLES, "staff")):
        if actor.kind == group and actor.role in ladder:
            roles |= set(ladder[: ladder.index(actor.role) + 1])
            roles.add(group)
    if actor.kind == "system":
        roles.add(SYSTEM)
    if actor.kind == "customer" and actor.user_id is not None:
        if actor.user_id == snap.reporter_id:
            roles.add("reporter")
        if actor.user_id == snap.customer_assignee_id:
            roles.add("customer_assignee")
    return frozenset(roles)


def _may_by(t: Transition, roles: frozenset[str]) -> bool:
    return bool(expand_roles(t.by) & roles)


def _gate(wf: Workflow, snap: Snapshot, actor: Actor, t: Transition) -> Denied | None:
    """Every rule that does not depend on what the actor types in."""
    if not _may_by(t, roles_of(actor, snap)):
        return Denied("role", "transition.role", {"role": actor.role, "transition": t.key})
    if t.types is not None and snap.type not in t.types:
        return Denied(
            "ticket_type", "transition.ticket_type", {"transition": t.key, "type": snap.type}
        )
    if not starts_at(wf, t, snap.status, snap.sub_status):
        return Denied(
            "wrong_status",
            "transition.wrong_status",
            {"transition": t.key, "status": snap.status, "sub_status": snap.sub_status},
        )
    if t.to_previous and not snap.previous_status:
        return Denied("wrong_status", "transition.no_previous", {"transition": t.key})
    if wf.order == "forward" and not t.reopen and not t.to_previous and t.to is not None:
        rank = wf.statuses[t.to.status].rank
        if rank is not None and rank < snap.progress_rank:
            return Denied("order", "transition.backwards", {"transition": t.key})
    return None


def _sub_choices(wf: Workflow, t: Transition) -> tuple[str, ...]:
    """The sub-statuses a person may pick: every one of the target status, except those a
    quote's own transition leads to, which only sending or answering a quote reaches."""
    if t.to is None or t.to.sub is not None:
        return ()
    quoted = {
        x.to.sub
        for x in wf.transitions.values()
        if x.to is not None
        and x.to.status == t.to.status
        and x.to.sub
        and any(e.kind == "quote" for e in x.effects)
    }
    return tuple(s for s in wf.statuses[t.to.status].sub_statuses if s not in quoted)


def _requirements(wf: Workflow, snap: Snapshot, t: Transition) -> list[str]:
    """The transition's own requirements, plus what its target status demands."""
    target = t.to.status if t.to is not None else snap.previous_status
    extra = wf.statuses[target].requires if target in wf.statuses else ()
    return [*t.requires, *(r for r in extra if r not in t.requires)]


def _needs(wf: Workflow, snap: Snapshot, t: Transition) -> tuple[str, ...]:
    """Requirements the ticket does not meet already, so the actor must supply them."""
    effects = {e.kind: e.value for e in t.effects}
    assign, customer = effects.get("assign"), effects.get("customer_assignee")
    needs = []
    for req in _requirements(wf, snap, t):
        if req == "assignee" and (assign == "actor" or (snap.assignee_id and assign != "none")):
            continue
        if req == "customer_assignee" and (
            customer == "actor"
            or (customer == "reporter" and snap.reporter_id)
            or (snap.customer_assignee_id and customer != "none")
        ):
            continue
        if req.startswith("field:") and not _empty(snap.fields.get(req[6:])):
            continue
        needs.append(req)
    return tuple(needs)


def options(wf: Workflow, snap: Snapshot, actor: Actor) -> list[Option]:
    """The transitions this actor may make now, each with what it still requires."""
    return [
        Option(t, _needs(wf, snap, t), _sub_choices(wf, t))
        for t in wf.transitions.values()
        if _gate(wf, snap, actor, t) is None
    ]


def decide(
    wf: Workflow, snap: Snapshot, actor: Actor, key: str, given: Given, now: datetime
) -> Outcome | Denied:
    """May `actor` make transition `key` with `given`? If so, the ticket afterwards."""
    t = wf.transitions.get(key)
    if t is None:
        return Denied("unknown_transition", "transition.unknown", {"value": key[:80]})
    denied = _gate(wf, snap, actor, t)
    if denied is not None:
        return denied
    for name, value in given.fields.items():
        problem = field_problem(wf, name, value, by_customer=actor.kind == "customer")
        if problem:
            return problem
    missing = []
    for req in _needs(wf, snap, t):
        if req == "comment" and given.comment.strip():
            continue
        if req == "assignee" and given.assignee_id:
            continue
        if req == "customer_assignee" and given.customer_assignee_id:
            continue
        if req.startswith("field:") and not _empty(given.fields.get(req[6:])):
            continue
        missing.append(req)
    if missing:
        return Denied(
            "requirement",
            "transition.requirement",
            {"transition": t.key, "missing": list(missing)},
            tuple(missing),
        )

    if t.to is None:
        status, sub = snap.previous_status, snap.previous_sub
    else:
        status = t.to.status
        choices = _sub_choices(wf, t)
        if t.to.sub is not None:
            if given.sub_status not in (None, "", t.to.sub):
                return Denied(
                    "invalid",
                    "transition.sub_status_fixed",
                    {"transition": t.key, "sub_status": t.to.sub},
                )
            sub = t.to.sub
        elif given.sub_status:
            if given.sub_status not in choices:
                return Denied(
                    "invalid",
                    "transition.sub_status_unknown",
                    {"value": str(given.sub_status)[:80], "status": status},
                )
            sub = given.sub_status
        else:
            sub = wf.statuses[status].default_sub or ""
    return _outcome(wf, snap, t, status, sub, given, now)


# the values the checker admits for the `customer_assignee` effect, typed
_CUSTOMER_ASSIGNEE: dict[str, Literal["reporter", "actor", "none"]] = {
    "reporter": "reporter",
    "actor": "actor",
    "none": "none",
}


def _outcome(
    wf: Workflow, snap: Snapshot, t: Transition, status: str, sub: str, given: Given, now: datetime
) -> Outcome:
    order = wf.priority_order
    priority, flags, team = snap.priority, set(snap.flags), snap.team
    assignee: Literal["keep", "actor", "none"] = "keep"
    customer_assignee: Literal["keep", "reporter", "actor", "none"] = "keep"
    changes: dict[str, object] = dict(given.fields)
    for e in t.effects:
        if e.kind == "flag":
            flags.add(str(e.value))
        elif e.kind == "unflag":
            flags.discard(str(e.value))
        elif e.kind == "raise_priority":
            index = order.index(priority) if priority in order else 0
            priority = order[min(index + int(e.value), len(order) - 1)]
        elif e.kind == "set_priority":
            priority = str(e.value)
        elif e.kind == "assign":
            assignee = "actor" if e.value == "actor" else "none"
        elif e.kind == "customer_assignee":
            customer_assignee = _CUSTOMER_ASSIGNEE[str(e.value)]
        elif e.kind == "team":
            team = "" if e.value == "none" else str(e.value)
        elif e.kind == "stamp":
            kind = wf.fields[str(e.value)].kind
            changes[str(e.value)] = now.date().isoformat() if kind == "date" else now.isoformat()
        elif e.kind == "clear":
            changes[str(e.value)] = None

    status_changed = status != snap.status
    rank = wf.statuses[status].rank
    cycle, progress = snap.cycle, snap.progress_rank
    if t.reopen:
        cycle, progress = cycle + 1, rank or 0
    elif rank is not None:
        progress = max(progress, rank)
    return Outcome(
        transition=t.key,
        status=status,
        sub_status=sub,
        previous_status=snap.status if status_changed else snap.previous_status,
        previous_sub=snap.sub_status if status_changed else snap.previous_sub,
        priority=priority,
        flags=frozenset(flags),
        team=team,
        assignee=assignee,
        customer_assignee=customer_assignee,
        field_changes=changes,
        cycle=cycle,
        progress_rank=progress,
        place_changed=status_changed or sub != snap.sub_status,
    )


def after(snap: Snapshot, outcome: Outcome, *, actor: Actor, now: datetime) -> Snapshot:
    """The ticket once `outcome` is applied: exactly what the bridge stores."""
    fields = {
        k: v if isinstance(v, int | float) else str(v).strip()
        for k, v in {**snap.fields, **outcome.field_changes}.items()
        if v is not None
    }
    assignee = {"keep": snap.assignee_id, "actor": actor.user_id, "none": None}[outcome.assignee]
    customer_assignee = {
        "keep": snap.customer_assignee_id,
        "reporter": snap.reporter_id,
        "actor": actor.user_id,
        "none": None,
    }[outcome.customer_assignee]
    return replace(
        snap,
        status=outcome.status,
        sub_status=outcome.sub_status,
        previous_status=outcome.previous_status,
        previous_sub=outcome.previous_sub,
        priority=outcome.priority,
        flags=outcome.flags,
        team=outcome.team,
        assignee_id=assignee,
        customer_assignee_id=customer_assignee,
        fields=fields,
        cycle=outcome.cycle,
        progress_rank=outcome.progress_rank,
        entered_at=now if outcome.place_changed else snap.entered_at,
        last_activity_at=now,
        awaiting_reply_since=None if actor.kind == "staff" else snap.awaiting_reply_since,
    )


# -- the system's moves ------------------------------------------------------------------


def next_timer(wf: Workflow, snap: Snapshot) -> DueTimer | None:
    """The timer that will act next on this ticket, if any, and when.

    A timer waits while a customer's reply is unanswered: a ticket is never closed or
    approved automatically over the customer's last word.
    """
    if snap.awaiting_reply_since is not None:
        return None
    best: DueTimer | None = None
    for timer in wf.timers.values():
        if not any(ref.matches(snap.status, snap.sub_status) for ref in timer.places):
            continue
        start = snap.entered_at if timer.since == "entered" else snap.last_activity_at
        due = start + timer.after
        if best is not None and best.due_at <= due:
            continue
        outcome = decide(wf, snap, SYSTEM_ACTOR, timer.transition, Given(), due)
        if isinstance(outcome, Outcome):
            best = DueTimer(timer, due)
    return best


def held_timer(wf: Workflow, snap: Snapshot) -> DueTimer | None:
    """The timer a customer's unanswered reply holds back: the one that would act if the
    reply had been answered, with the due time it would have now. None when no reply waits.

    Once staff answer publicly, the last activity is their answer, so a timer counted
    from the last activity starts again from it; one counted from entering the status
    keeps its date, and acts at once if that has passed.
    """
    if snap.awaiting_reply_since is None:
        return None
    return next_timer(wf, replace(snap, awaiting_reply_since=None))


def triggered(
    wf: Workflow, snap: Snapshot, event: str, *, environment: str | None = None
) -> str | None:
    """The transition an event makes on this ticket now, or None."""
    for trigger in wf.triggers:
        if trigger.on != event:
            continue
        if trigger.environment is not None and trigger.environment != environment:
            continue
        if not any(ref.matches(snap.status, snap.sub_status) for ref in trigger.places):
            continue
        t = wf.transitions[trigger.transition]
        if _gate(wf, snap, SYSTEM_ACTOR, t) is None and not _needs(wf, snap, t):
            return t.key
    return None


def flags_triggered(
    wf: Workflow, snap: Snapshot, event: str, *, environment: str | None = None
) -> frozenset[str]:
    """The flags an event raises on this ticket now without moving it (those it already
    has are left out: raising a flag twice changes nothing)."""
    return frozenset(
        trigger.flag
        for trigger in wf.flag_triggers
        if trigger.on == event
        and (trigger.environment is None or trigger.environment == environment)
        and any(ref.matches(snap.status, snap.sub_status) for ref in trigger.places)
        and trigger.flag not in snap.flags
    )


REQUIRED_BY_STATUS = {
    "assignee": "ticket.assignee.required_by_status",
    "customer_assignee": "ticket.customer_assignee.required_by_status",
}


def unassign_problem(wf: Workflow, snap: Snapshot, which: str) -> Denied | None:
    """Why the ticket may not lose its `assignee` or `customer_assignee` now, if it may not."""
    if which in wf.statuses[snap.status].requires:
        code = REQUIRED_BY_STATUS[which]
        return Denied("invalid", code, {"status": snap.status})
    return None


# -- fields ----------------------------------------------------------------------------

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


MAX_FIELD = 500


def field_problem(
    wf: Workflow, name: str, value: object, *, by_customer: bool = False
) -> Denied | None:
    """Why `value` cannot be stored in field `name` (by a customer), or None if it can."""
    spec = wf.fields.get(name)
    if spec is None:
        return Denied("invalid", "field.unknown", {"field": name[:80]})
    if by_customer and not spec.customer_editable:
        return Denied("invalid", "field.not_for_customers", {"field": name})
    if value is None:
        return None
    if isinstance(value, bool):
        return Denied(
            "invalid", "field.kind", {"field": name, "kind": spec.kind, "value": str(value).lower()}
        )
    text = str(value).strip()
    if len(text) > MAX_FIELD:
        return Denied("invalid", "field.too_long", {"field": name, "limit": MAX_FIELD})
    try:
        if spec.kind == "number":
            int(text)
        elif spec.kind == "decimal":
            number = Decimal(text)
            if not number.is_finite():
                raise InvalidOperation
        elif spec.kind == "date":
            date.fromisoformat(text)
        elif spec.kind == "datetime":
            datetime.fromisoformat(text)
        elif spec.kind == "version" and not _VERSION.match(text):
            raise ValueError
    except (ValueError, InvalidOperation):
        return Denied(
            "invalid", "field.kind", {"field": name, "kind": spec.kind, "value": text[:40]}
        )
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        return Denied("invalid", "field.pattern", {"field": name, "value": text[:40]})
    return None
