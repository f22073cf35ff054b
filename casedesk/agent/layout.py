"""Where the boxes and arrows of a workflow diagram go, decided by a maintained graph
layout engine rather than by hand: Graphviz `dot` on the server when it is installed,
else dagre (vendored under static/agent/, MIT) in the browser from the same graph.

Only numbered node names reach `dot` (n0, n1 ...) with fixed sizes: no text of the
workflow is ever part of its input. A layout is kept per graph, so a page costs one run
of `dot` per workflow and process.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from django.conf import settings

log = logging.getLogger("casedesk.agent")
POINTS = 72  # dot's plain output is in inches; the page draws in points
DOT_TIMEOUT = 10


@dataclass(frozen=True)
class Box:
    x: float  # top left
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]  # in the order of the nodes given
    paths: tuple[str, ...]  # SVG path data, in the order of the edges given


def engine() -> str:
    """`graphviz` when `dot` is installed and not turned off, else `browser` (dagre)."""
    if settings.CASEDESK_DIAGRAM_LAYOUT == "browser":
        return "browser"
    return "graphviz" if shutil.which("dot") else "browser"


def graphviz(
    sizes: tuple[tuple[float, float], ...],
    columns: tuple[int, ...],
    edges: tuple[tuple[int, int], ...],
) -> Layout | None:
    """A left-to-right layout of nodes of these sizes (in points), each in its column
    (a status's category: new, open, waiting ...), joined by these edges (distinct pairs of
    node indexes), or None when `dot` cannot make one. Arrows back to an earlier column
    do not push the columns apart."""
    return _graphviz(sizes, columns, edges)


@lru_cache(maxsize=64)
def _graphviz(sizes, columns, edges) -> Layout | None:
    dot = shutil.which("dot")
    if dot is None:
        return None
    lines = [
        "digraph G {",
        "rankdir=LR; newrank=true; nodesep=0.3; ranksep=0.9; splines=true;",
        'node [shape=box, fixedsize=true, label=""];',
    ]
    lines += [
        f"n{i} [width={w / POINTS:.3f}, height={h / POINTS:.3f}];" for i, (w, h) in enumerate(sizes)
    ]
    firsts = []
    for column in sorted(set(columns)):
        members = [i for i, c in enumerate(columns) if c == column]
        lines.append(f"{{rank=same; {' '.join(f'n{i};' for i in members)}}}")
        firsts.append(members[0])
    # the columns in the order of their categories, also where no arrow links them
    lines += [f"n{a} -> n{b} [style=invis, weight=0];" for a, b in pairwise(firsts)]
    lines += [
        f"n{a} -> n{b} [constraint=false];" if columns[b] < columns[a] else f"n{a} -> n{b};"
        for a, b in edges
    ]
    lines.append("}")
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program on input we made)
            [dot, "-Tplain"],
            input="\n".join(lines),
            capture_output=True,
            text=True,
            timeout=DOT_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("workflow diagram: dot failed (%s); the browser lays it out", exc)
        return None
    return _parse(done.stdout, len(sizes), edges)


def _parse(plain: str, n_nodes: int, edges: tuple[tuple[int, int], ...]) -> Layout | None:
    height = width = 0.0
    centres: dict[int, tuple[float, ...]] = {}
    splines: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for line in plain.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            width, height = float(parts[2]) * POINTS, float(parts[3]) * POINTS
        elif parts[0] == "node":
            centres[int(parts[1][1:])] = tuple(float(v) * POINTS for v in parts[2:6])
        elif parts[0] == "edge" and parts[-2] != "invis":
            pair = (int(parts[1][1:]), int(parts[2][1:]))
            count = int(parts[3])
            values = [float(v) * POINTS for v in parts[4 : 4 + 2 * count]]
            splines[pair] = list(zip(values[0::2], values[1::2], strict=True))
    if len(centres) != n_nodes or any(pair not in splines for pair in edges):
        return None
    boxes = tuple(
        Box(x - w / 2, height - y - h / 2, w, h)
        for x, y, w, h in (centres[i] for i in range(n_nodes))
    )
    return Layout(width, height, boxes, tuple(_path(splines[pair], height) for pair in edges))


def _path(points: list[tuple[float, float]], height: float) -> str:
    flipped = [(x, height - y) for x, y in points]
    (x0, y0), rest = flipped[0], flipped[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    for i in range(0, len(rest) - 2, 3):
        (x1, y1), (x2, y2), (x3, y3) = rest[i : i + 3]
        d.append(f"C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}")
    return " ".join(d)
