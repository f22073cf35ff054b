"""The compiled workflow as a graph of places: which transitions leave each (status,
sub-status), and which places a ticket can get to at all.

Where a transition starts is the engine's `starts_at`, where a ticket starts is
`Workflow.start`, and the sub-statuses a transition may land in are the ones `decide`
accepts, so the graph is the engine's own, only without the roles, types and inputs.
"""

from __future__ import annotations

from .engine import _sub_choices
from .spec import Place, Transition, Workflow


def outgoing(wf: Workflow) -> dict[Place, list[Transition]]:
    """The transitions that start at each (status, sub-status) place."""
    return {place: wf.transitions_from(*place) for place in wf.places()}


def landings(wf: Workflow, t: Transition) -> set[Place]:
    """Where `t` can put a ticket; a return to the previous status is left out, because
    it can only lead back to a place the ticket has already been in."""
    if t.to is None:
        return set()
    if t.to.sub is not None:
        return {(t.to.status, t.to.sub)}
    default = wf.statuses[t.to.status].default_sub or ""
    return {(t.to.status, sub) for sub in (default, *_sub_choices(wf, t))}


def reachable(wf: Workflow, out: dict[Place, list[Transition]] | None = None) -> set[Place]:
    """Every place a ticket can get to from where it starts, by any transition of anyone."""
    out = outgoing(wf) if out is None else out
    seen = {wf.start}
    todo = [wf.start]
    while todo:
        place = todo.pop()
        for t in out[place]:
            for nxt in landings(wf, t) - seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
