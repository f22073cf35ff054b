"""The workflow as a graph of places: which transitions leave each (status, sub-status),
and which places a ticket can get to at all."""

from __future__ import annotations

from .schema import TransitionDef, WorkflowDef
from .spec import PREVIOUS, Ref


def starts_at(wf: WorkflowDef, t: TransitionDef, status: str, sub: str) -> bool:
    if t.from_ == "*":
        return not wf.statuses[status].final
    if any(Ref.parse(x).matches(status, sub) for x in t.from_):
        return True
    if not sub:
        return False
    # a reference narrowed to a sub-status is also met by a transition from the whole status
    return any(Ref.parse(x) == Ref(status) for x in t.from_)


def outgoing(wf: WorkflowDef) -> dict[tuple[str, str], list[TransitionDef]]:
    """The transitions that start at each (status, sub-status) place."""
    places = [(k, sub) for k, s in wf.statuses.items() for sub in ("", *s.sub_statuses)]
    return {p: [t for t in wf.transitions.values() if starts_at(wf, t, *p)] for p in places}


def reachable(wf: WorkflowDef) -> set[tuple[str, str]]:
    """Every (status, sub-status) a ticket can get to from the initial status, by any
    transition of anyone. Assumes the names in the file are good."""
    out = outgoing(wf)
    places = set(out)
    initial = next(k for k, s in wf.statuses.items() if s.initial)

    def targets(t: TransitionDef, src: tuple[str, str]) -> set[tuple[str, str]]:
        if t.to == PREVIOUS:  # back to any place that leads here
            return {
                p
                for p in places
                if any(u.to != PREVIOUS and Ref.parse(u.to).status == src[0] for u in out[p])
            }
        ref = Ref.parse(t.to)
        status = wf.statuses[ref.status]
        if ref.sub:
            return {(ref.status, ref.sub)}
        subs = status.sub_statuses
        if status.default_sub:
            return {(ref.status, s) for s in subs}  # default on entry, any by choice
        return {(ref.status, s) for s in ("", *subs)}

    start = (initial, wf.statuses[initial].default_sub or "")
    seen = {start}
    todo = [start]
    while todo:
        place = todo.pop()
        for t in out[place]:
            for nxt in targets(t, place) - seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
