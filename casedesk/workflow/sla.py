"""SLA clocks: a ticket's events folded into the state of its clocks, by one pure function.

A clock measures one target (first response, next response, resolution) in one cycle of
a ticket, in business time on the desk's calendar. It runs, is paused (while the place
the ticket is in says so, by default while it is the customer's or a third party's
turn), is met (a response; the ticket resolved) or stops (the target no longer applies,
e.g. a cancelled ticket). `step` applies one event to the clocks, the way a change does
in its own transaction; `fold` replays a whole history through it, so a rebuild and the
live clocks cannot disagree.

A reopen starts a new cycle with a new resolution clock, counted from the reopen, so a
reopened ticket never breaches at once because of its age. A new priority or plan keeps
the time already used against the new target; a target that is already exceeded then is
breached at that moment, with the reason recorded.

Pure Python, like the rest of the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from .calendar import Calendar, add, between

TARGETS = ("first_response", "next_response", "resolution")
Mode = Literal["run", "pause", "met", "stop"]
Limits = Mapping[str, timedelta]  # target -> business time allowed; absent: no promise
Plan = Mapping[str, Limits]  # priority -> its limits
Modes = Mapping[str, Mode]  # target -> what the ticket's place does to it
ZERO = timedelta(0)


@dataclass(frozen=True)
class Clock:
    target: str
    cycle: int
    started_at: datetime
    limit: timedelta
    since: datetime  # `used` is up to date at this instant
    used: timedelta = ZERO
    running: bool = True
    paused_by: str = ""  # the place that paused it
    paused_since: datetime | None = None
    met_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    breach_reason: str = ""  # "late" | "target_lowered"

    @property
    def open(self) -> bool:
        return self.met_at is None and self.stopped_at is None

    def due_at(self, cal: Calendar) -> datetime | None:
        """When a running clock passes its target (it may lie in the past)."""
        if not (self.open and self.running):
            return None
        if self.breached_at is not None:
            return self.breached_at
        return add(cal, self.since, self.limit - self.used)

    def warn_at(self, cal: Calendar, ratio: float) -> datetime | None:
        """When `ratio` of the target is used, for a running clock not yet past it."""
        if not (self.open and self.running) or self.breached_at is not None:
            return None
        mark = self.limit * ratio
        return add(cal, self.since, max(ZERO, mark - self.used))

    def remaining(self, cal: Calendar, now: datetime) -> timedelta:
        used = self.used + (between(cal, self.since, now) if self.open and self.running else ZERO)
        return self.limit - used


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    at: datetime
    priority: str
    place: str
    modes: Modes


@dataclass(frozen=True)
class Moved:
    """The ticket reached `place`. `responded`: a customer-visible move by staff with a
    message, which counts as a response; `reopened`: a new cycle begins."""

    at: datetime
    place: str
    modes: Modes
    responded: bool = False
    reopened: bool = False


@dataclass(frozen=True)
class Replied:
    """A public reply by staff (never an automatic mail or an internal note)."""

    at: datetime


@dataclass(frozen=True)
class CustomerWrote:
    at: datetime


@dataclass(frozen=True)
class Reprioritised:
    at: datetime
    priority: str


@dataclass(frozen=True)
class Replanned:
    at: datetime
    plan: Plan


@dataclass(frozen=True)
class Recalendared:
    """The desk's calendar changed at `at`: time up to then is counted on the calendar
    that was in force (the one `step` is given for this event), later time on the new
    one. Clocks already met or stopped keep what they measured."""

    at: datetime


Event = Opened | Moved | Replied | CustomerWrote | Reprioritised | Replanned | Recalendared


@dataclass(frozen=True)
class Clocks:
    plan: Plan
    priority: str = ""
    place: str = ""
    modes: Modes = field(default_factory=dict)
    cycle: int = 0
    clocks: tuple[Clock, ...] = ()

    def current(self, target: str) -> Clock | None:
        """The clock of `target` in the ticket's current cycle (first response: any)."""
        for clock in reversed(self.clocks):
            if clock.target == target and (target == "first_response" or clock.cycle == self.cycle):
                return clock
        return None


# -- the fold ----------------------------------------------------------------------------


def _advance(cal: Calendar, clock: Clock, at: datetime) -> Clock:
    """Bring `used` up to `at`; a clock that passes its target then breached when it did."""
    if not clock.open:
        return clock
    if not clock.running:
        return replace(clock, since=max(clock.since, at))
    used = clock.used + between(cal, clock.since, at)
    breached, reason = clock.breached_at, clock.breach_reason
    if breached is None and used > clock.limit:  # reaching it exactly is still on time
        breached, reason = add(cal, clock.since, clock.limit - clock.used), "late"
    return replace(clock, used=used, since=at, breached_at=breached, breach_reason=reason)


def _apply_mode(clock: Clock, mode: Mode, place: str, at: datetime) -> Clock:
    if not clock.open:
        return clock
    if mode == "met":
        return replace(clock, met_at=at, running=False)
    if mode == "stop":
        return replace(clock, stopped_at=at, running=False)
    if mode == "pause":
        if clock.running:
            return replace(clock, running=False, paused_by=place, paused_since=at)
        return clock
    return replace(clock, running=True, paused_by="", paused_since=None)


def _start(state: Clocks, target: str, at: datetime) -> Clocks:
    limit = state.plan.get(state.priority, {}).get(target)
    if limit is None:
        return state
    clock = _apply_mode(
        Clock(target, state.cycle, at, limit, at), state.modes.get(target, "run"), state.place, at
    )
    return replace(state, clocks=(*state.clocks, clock))


def _relimit(state: Clocks, at: datetime) -> Clocks:
    """Open clocks take their target from the plan and priority now in force."""
    limits = state.plan.get(state.priority, {})
    clocks = []
    for clock in state.clocks:
        if clock.open:
            limit = limits.get(clock.target)
            if limit is None:
                clock = replace(clock, stopped_at=at, running=False)
            else:
                clock = replace(clock, limit=limit)
                if clock.breached_at is None and clock.used >= limit:
                    clock = replace(clock, breached_at=at, breach_reason="target_lowered")
        clocks.append(clock)
    return replace(state, clocks=tuple(clocks))


def _respond(state: Clocks, at: datetime) -> Clocks:
    clocks = tuple(
        replace(c, met_at=at, running=False)
        if c.open and c.target in ("first_response", "next_response")
        else c
        for c in state.clocks
    )
    return replace(state, clocks=clocks)


def step(cal: Calendar, state: Clocks, event: Event) -> Clocks:
    """The clocks after one event (events come in the order they happened)."""
    state = replace(state, clocks=tuple(_advance(cal, c, event.at) for c in state.clocks))
    if isinstance(event, Opened):
        state = replace(state, priority=event.priority, place=event.place, modes=event.modes)
        state = replace(state, cycle=1)
        for target in ("first_response", "resolution"):
            state = _start(state, target, event.at)
        return state
    if isinstance(event, Moved):
        if event.responded:
            state = _respond(state, event.at)
        state = replace(state, place=event.place, modes=event.modes)
        if event.reopened:
            # the old cycle's clocks end where they are; the new cycle starts from now
            ended = tuple(
                replace(c, stopped_at=event.at, running=False)
                if c.open and c.target != "first_response"
                else c
                for c in state.clocks
            )
            state = replace(state, clocks=ended, cycle=state.cycle + 1)
            state = _start(state, "resolution", event.at)
        clocks = tuple(
            _apply_mode(c, event.modes.get(c.target, "run"), event.place, event.at)
            if c.cycle == state.cycle or c.target == "first_response"
            else c
            for c in state.clocks
        )
        return replace(state, clocks=clocks)
    if isinstance(event, Replied):
        return _respond(state, event.at)
    if isinstance(event, CustomerWrote):
        first = state.current("first_response")
        waiting = state.current("next_response")
        if (first is None or not first.open) and (waiting is None or not waiting.open):
            state = _start(state, "next_response", event.at)
        return state
    if isinstance(event, Reprioritised):
        return _relimit(replace(state, priority=event.priority), event.at)
    if isinstance(event, Recalendared):
        return state
    return _relimit(replace(state, plan=event.plan), event.at)


def fold(cal: Calendar, plan: Plan, events: Iterable[Event]) -> Clocks:
    """Replay a ticket's events from the start: what `casedesk sla rebuild` computes."""
    state = Clocks(plan=plan)
    for event in events:
        state = step(cal, state, event)
    return state


def default_modes(category: str, turn: str) -> dict[str, Mode]:
    """What a place does to the clocks when the workflow says nothing: resolved and
    closed meet the resolution target, cancelled stops every clock, the customer's or a
    third party's turn pauses them, and anything else lets them run."""
    if category in ("resolved", "closed"):
        return {"first_response": "stop", "next_response": "stop", "resolution": "met"}
    if category == "cancelled":
        return dict.fromkeys(TARGETS, "stop")
    if turn in ("customer", "third_party"):
        return dict.fromkeys(TARGETS, "pause")
    return dict.fromkeys(TARGETS, "run")


# -- stored form -------------------------------------------------------------------------
# The live clocks are kept between changes as plain data (JSON), and stepped from there.


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _micros(value: timedelta) -> int:
    """Exact: a stored clock steps on to the same instants as one never stored."""
    return value // timedelta(microseconds=1)


def clocks_to_data(state: Clocks) -> dict[str, object]:
    return {
        "plan": {
            priority: {target: _micros(limit) for target, limit in limits.items()}
            for priority, limits in state.plan.items()
        },
        "priority": state.priority,
        "place": state.place,
        "modes": dict(state.modes),
        "cycle": state.cycle,
        "clocks": [
            {
                "target": c.target,
                "cycle": c.cycle,
                "started_at": _when(c.started_at),
                "limit": _micros(c.limit),
                "since": _when(c.since),
                "used": _micros(c.used),
                "running": c.running,
                "paused_by": c.paused_by,
                "paused_since": _when(c.paused_since),
                "met_at": _when(c.met_at),
                "stopped_at": _when(c.stopped_at),
                "breached_at": _when(c.breached_at),
                "breach_reason": c.breach_reason,
            }
            for c in state.clocks
        ],
    }


def plan_from_data(data: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, timedelta]]:
    """A plan from microseconds per priority and target."""
    return {
        priority: {target: timedelta(microseconds=us) for target, us in limits.items()}
        for priority, limits in data.items()
    }


def clocks_from_data(data: Mapping[str, object]) -> Clocks:
    def clock(c: Mapping[str, object]) -> Clock:
        started, since = _instant(c["started_at"]), _instant(c["since"])
        assert started is not None and since is not None
        return Clock(
            target=str(c["target"]),
            cycle=int(c["cycle"]),  # type: ignore[call-overload]
            started_at=started,
            limit=timedelta(microseconds=int(c["limit"])),  # type: ignore[call-overload]
            since=since,
            used=timedelta(microseconds=int(c["used"])),  # type: ignore[call-overload]
            running=bool(c["running"]),
            paused_by=str(c["paused_by"]),
            paused_since=_instant(c["paused_since"]),
            met_at=_instant(c["met_at"]),
            stopped_at=_instant(c["stopped_at"]),
            breached_at=_instant(c["breached_at"]),
            breach_reason=str(c["breach_reason"]),
        )

    modes = data["modes"]
    clocks = data["clocks"]
    assert isinstance(modes, Mapping) and isinstance(clocks, list)
    return Clocks(
        plan=plan_from_data(data["plan"]),  # type: ignore[arg-type]
        priority=str(data["priority"]),
        place=str(data["place"]),
        modes=dict(modes),
        cycle=int(data["cycle"]),  # type: ignore[call-overload]
        clocks=tuple(clock(c) for c in clocks),
    )
