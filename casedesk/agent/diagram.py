"""A desk's workflow drawn from the loaded workflow: statuses in columns by category,
transitions as arrows (who may make them shown by colour), and tables of every
transition, timer and event. Coordinates are computed here; the template draws SVG."""

from __future__ import annotations

from dataclasses import dataclass

from casedesk.desks.models import Desk
from casedesk.web import present
from casedesk.workflow.spec import CUSTOMER_ROLES, SYSTEM, expand_roles

COLUMNS = ("new", "open", "waiting", "resolved", "closed", "cancelled")
NODE_W, NODE_H, COL_W, ROW_H, PAD = 170, 46, 230, 78, 30
CUSTOMER_SIDE = {*CUSTOMER_ROLES, "reporter", "customer_assignee"}


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    x: int
    y: int
    category: str
    turn: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    path: str
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


def workflow_diagram(desk: Desk, lang: str) -> dict:
    wf = desk.workflow.workflow
    columns: dict[str, list] = {c: [] for c in COLUMNS}
    for s in wf.statuses.values():
        columns[s.category].append(s)
    used = [c for c in COLUMNS if columns[c]]
    nodes: dict[str, Node] = {}
    for ci, category in enumerate(used):
        for ri, s in enumerate(columns[category]):
            label = wf.text(s.label, lang)
            nodes[s.key] = Node(
                s.key, label, PAD + ci * COL_W, PAD + ri * ROW_H, category, s.turn, _wrap(label)
            )
    edges = []
    anywhere = []
    for t in wf.transitions.values():
        label = wf.text(t.label, lang)
        if t.from_anywhere or t.to is None:
            anywhere.append(t)
            continue
        target = nodes[t.to.status]
        for source_key in dict.fromkeys(ref.status for ref in t.sources):
            source = nodes[source_key]
            if source is target:
                continue
            edges.append(Edge(_curve(source, target), _side(t.by), label))
    height = PAD * 2 + max(len(columns[c]) for c in used) * ROW_H
    width = PAD * 2 + len(used) * COL_W
    return {
        "desk": desk,
        "wf": wf,
        "nodes": list(nodes.values()),
        "edges": edges,
        "width": width,
        "height": height,
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


def _curve(a: Node, b: Node) -> str:
    if b.x > a.x:  # forwards: right side to left side
        x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H // 2, b.x, b.y + NODE_H // 2
        bend = (x2 - x1) // 2
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    if b.x < a.x:  # backwards: under the boxes
        x1, y1, x2, y2 = a.x + NODE_W // 2 - 10, a.y + NODE_H, b.x + NODE_W // 2 + 10, b.y + NODE_H
        drop = 28 + abs(a.x - b.x) // 12
        return f"M{x1},{y1} C{x1},{y1 + drop} {x2},{y2 + drop} {x2},{y2}"
    # same column: out on the right, back in on the right
    x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H // 2 + 6, b.x + NODE_W, b.y + NODE_H // 2 - 6
    return f"M{x1},{y1} C{x1 + 45},{y1} {x2 + 45},{y2} {x2},{y2}"


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
