"""A desk's workflow drawn from the loaded workflow: statuses as boxes (coloured by
category, the customer's turn framed), transitions as arrows (who may make them shown by
colour), and tables of every transition, timer and event. A graph layout engine places
them (layout.py): Graphviz on the server, else dagre in the browser; the template draws
SVG either way."""

from __future__ import annotations

from dataclasses import dataclass

from casedesk.desks.models import Desk
from casedesk.web import present
from casedesk.workflow.spec import CUSTOMER_ROLES, SYSTEM, expand_roles

from . import layout

NODE_W, NODE_H, PAD = 170, 46, 20
# the columns, left to right: a status stands with the others of its category
CATEGORIES = ("new", "open", "waiting", "resolved", "closed", "cancelled")
SIDES = ("customer", "staff", "system")  # an arrow several sides make is drawn as the first
CUSTOMER_SIDE = {*CUSTOMER_ROLES, "reporter", "customer_assignee"}


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    x: float
    y: float
    category: str
    turn: str
    lines: tuple[str, ...]
    column: int = 0


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str  # empty when the browser lays the diagram out
    side: str  # customer | staff | system
    title: str


def _wrap(text: str, width: int = 22) -> tuple[str, ...]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return tuple(lines[:2])


def _side(by: frozenset[str]) -> str:
    roles = expand_roles(by)
    if roles & CUSTOMER_SIDE:
        return "customer"
    if roles == {SYSTEM}:
        return "system"
    return "staff"


def _graph(wf, lang: str) -> tuple[list, list[tuple[str, str, str, str]]]:
    """The statuses, and one arrow per pair of statuses with who makes it and its steps."""
    statuses = list(wf.statuses.values())
    pairs: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    for t in wf.transitions.values():
        if t.from_anywhere or t.to is None:
            continue  # listed in the table; an arrow from everywhere draws nothing
        for source in dict.fromkeys(ref.status for ref in t.sources):
            if source == t.to.status:
                continue
            sides, titles = pairs.setdefault((source, t.to.status), (set(), []))
            sides.add(_side(t.by))
            titles.append(wf.text(t.label, lang))
    edges = [
        (a, b, next(s for s in SIDES if s in sides), " · ".join(titles))
        for (a, b), (sides, titles) in pairs.items()
    ]
    return statuses, edges


def workflow_diagram(desk: Desk, lang: str) -> dict:
    wf = desk.workflow.workflow
    statuses, raw_edges = _graph(wf, lang)
    index = {s.key: i for i, s in enumerate(statuses)}
    engine = layout.engine()
    placed = None
    if engine == "graphviz":
        placed = layout.graphviz(
            tuple((NODE_W, NODE_H) for _ in statuses),
            tuple(CATEGORIES.index(s.category) for s in statuses),
            tuple((index[a], index[b]) for a, b, _, _ in raw_edges),
        )
        engine = "graphviz" if placed is not None else "browser"
    nodes = []
    for i, s in enumerate(statuses):
        label = wf.text(s.label, lang)
        box = placed.boxes[i] if placed else None
        x, y = (box.x + PAD, box.y + PAD) if box else (0.0, 0.0)
        column = CATEGORIES.index(s.category)
        nodes.append(Node(s.key, label, x, y, s.category, s.turn, _wrap(label), column))
    edges = [
        Edge(a, b, _shift(placed.paths[i]) if placed else "", side, title)
        for i, (a, b, side, title) in enumerate(raw_edges)
    ]
    return {
        "desk": desk,
        "wf": wf,
        "engine": engine,
        "nodes": nodes,
        "edges": edges,
        "width": round(placed.width + 2 * PAD) if placed else 0,
        "height": round(placed.height + 2 * PAD) if placed else 0,
        "node_w": NODE_W,
        "node_h": NODE_H,
        "transitions": [_transition_row(wf, t, lang) for t in wf.transitions.values()],
        "timers": [_timer_row(wf, timer, lang) for timer in wf.timers.values()],
        "events": [
            {
                "when": present.EVENT_WORDS.get(e.on, lambda e=e: e.on)(),
                "environment": e.environment or "",
                "places": [wf.place_label(p.status, p.sub or "", lang) for p in e.places],
                "transition": wf.text(wf.transitions[e.transition].label, lang),
            }
            for e in wf.triggers
        ],
        "workflow_name": wf.text(wf.name, lang),
    }


def _shift(path: str) -> str:
    """A path moved by the diagram's margin."""
    out = []
    for token in path.split():
        head = token[0] if token[0].isalpha() else ""
        x, y = token[len(head) :].split(",")
        out.append(f"{head}{float(x) + PAD:.1f},{float(y) + PAD:.1f}")
    return " ".join(out)


def _transition_row(wf, t, lang: str) -> dict:
    if t.from_anywhere:
        sources = []
    else:
        sources = [wf.place_label(r.status, r.sub or "", lang) for r in t.sources]
    target = wf.place_label(t.to.status, t.to.sub or "", lang) if t.to else "↩"
    return {
        "key": t.key,
        "label": wf.text(t.label, lang),
        "sources": sources,
        "target": target,
        "who": [present.role_text(r) for r in sorted(expand_roles(t.by))],
        "needs": [present.needs_text(n, wf, lang) for n in t.requires],
        "side": _side(t.by),
        "anywhere": t.from_anywhere,
        "types": [wf.text(wf.types[x].label, lang) for x in sorted(t.types or ())],
    }


def _timer_row(wf, timer, lang: str) -> dict:
    from casedesk.workflow.durations import format_duration

    return {
        "places": [wf.place_label(r.status, r.sub or "", lang) for r in timer.places],
        "after": present.duration_text(format_duration(timer.after)),
        "since": present.since_text(timer.since),
        "transition": wf.text(wf.transitions[timer.transition].label, lang),
        "notice": wf.text(timer.notice, lang).replace("{date}", "…"),
    }
