"""Compile a workflow file whose names resolve into the one model, `spec.Workflow`.

The pydantic models of `schema.py` say only what shape the file has; from here on the
checker and the engine see the same compiled structure. Every element keeps the lines it
was written on, so the checks that run on the compiled model can still name them.
"""

from __future__ import annotations

from collections import defaultdict

from .durations import parse_duration
from .schema import WorkflowDef
from .source import LineMap
from .source import Path as KeyPath
from .spec import (
    PREVIOUS,
    Duplicates,
    Effect,
    Field,
    Flag,
    FlagTrigger,
    Lines,
    Priority,
    Ref,
    Status,
    SubStatus,
    Team,
    TicketType,
    Timer,
    Transition,
    Trigger,
    Workflow,
)


class _Lines:
    """The LineMap, indexed by parent so each element finds the lines of its keys at once."""

    def __init__(self, lines: LineMap):
        self.map = lines
        self.children: dict[KeyPath, dict[str, int]] = defaultdict(dict)
        for path, line in lines.lines.items():
            if path and isinstance(path[-1], str):
                self.children[path[:-1]][path[-1]] = line

    def __call__(self, *path: str | int) -> Lines:
        return Lines(self.map.line_of(path), dict(self.children.get(path, {})))


def compile_workflow(wf: WorkflowDef, lines: LineMap | None = None) -> Workflow:
    """The compiled model of `wf`; assumes `checks.check` found nothing wrong with it."""
    at = _Lines(lines or LineMap())
    subs = {
        key: SubStatus(
            key,
            s.label,
            s.explain,
            s.turn,
            s.active,
            frozenset(s.waits_for) if s.waits_for is not None else None,
            at("sub_statuses", key),
            s.staff_note,
        )
        for key, s in wf.sub_statuses.items()
    }
    statuses = {
        key: Status(
            key=key,
            label=s.label,
            explain=s.explain,
            category=s.category,
            turn=s.turn,
            active=s.active if s.active is not None else not s.final,
            initial=s.initial,
            sub_statuses=tuple(s.sub_statuses),
            default_sub=s.default_sub,
            rank=s.rank,
            requires=tuple(s.requires),
            waits_for=frozenset(s.waits_for) if s.waits_for is not None else None,
            ask_reason=s.ask_reason,
            lines=at("statuses", key),
            sla=tuple(sorted(s.sla.items())),
            staff_note=s.staff_note,
        )
        for key, s in wf.statuses.items()
    }
    transitions = {
        key: Transition(
            key=key,
            label=t.label,
            sources=() if t.from_ == "*" else tuple(Ref.parse(x) for x in t.from_),
            from_anywhere=t.from_ == "*",
            to=None if t.to == PREVIOUS else Ref.parse(t.to),
            by=frozenset(t.by),
            types=frozenset(t.types) if t.types is not None else None,
            requires=tuple(t.requires),
            prompt=t.prompt,
            reopen=t.reopen,
            effects=tuple(Effect(k, v) for e in t.effects for k, v in e.items()),
            lines=at("transitions", key),
        )
        for key, t in wf.transitions.items()
    }
    timers = {
        key: Timer(
            key,
            tuple(Ref.parse(x) for x in t.in_),
            parse_duration(t.after),
            t.since,
            t.transition,
            t.notice,
            parse_duration(t.warn_before) if t.warn_before else None,
            at("timers", key),
        )
        for key, t in wf.timers.items()
    }
    triggers = tuple(
        Trigger(
            t.on, tuple(Ref.parse(x) for x in t.in_), t.transition, t.environment, at("events", i)
        )
        for i, t in enumerate(wf.events)
        if t.transition is not None
    )
    flag_triggers = tuple(
        FlagTrigger(
            t.on, tuple(Ref.parse(x) for x in t.in_), t.flag, t.environment, at("events", i)
        )
        for i, t in enumerate(wf.events)
        if t.flag is not None
    )
    dup = wf.duplicates
    return Workflow(
        slug=wf.workflow,
        version=wf.version,
        name=wf.name,
        description=wf.description,
        languages=tuple(wf.languages),
        order=wf.order,
        types={
            k: TicketType(t.label, t.customer_may_create, t.default) for k, t in wf.types.items()
        },
        priorities={k: Priority(p.label, p.default) for k, p in wf.priorities.items()},
        teams={k: Team(t.label) for k, t in wf.teams.items()},
        fields={
            k: Field(f.label, f.kind, f.help, f.customer_visible, f.customer_editable, f.pattern)
            for k, f in wf.fields.items()
        },
        sub_statuses=subs,
        statuses=statuses,
        transitions=transitions,
        timers=timers,
        triggers=triggers,
        flag_triggers=flag_triggers,
        duplicates=Duplicates(dup.transition, dup.title_prefix, at("duplicates")) if dup else None,
        flags={k: Flag(f.label, f.public) for k, f in wf.flags.items()},
    )
