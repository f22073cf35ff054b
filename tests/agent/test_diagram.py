"""The workflow diagram is laid out by a graph layout engine: Graphviz on the server, or
dagre in the browser where Graphviz is absent (tests/web/test_browser.py runs that one in
Chromium). Every box inside the picture, none on another, every arrow drawn."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from casedesk.agent import layout
from casedesk.agent.diagram import NODE_H, NODE_W, workflow_diagram
from tests.conftest import make_desk

PRESETS = ["default", "tms", "assu", "twovalue", "sda", "servisni_list"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (dot)")


def _numbers(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


def overlapping(boxes: list[tuple[float, float]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, (ax, ay) in enumerate(boxes)
        for j, (bx, by) in enumerate(boxes)
        if i < j and abs(ax - bx) < NODE_W and abs(ay - by) < NODE_H
    ]


@needs_dot
@pytest.mark.parametrize("preset", PRESETS)
def test_graphviz_places_every_status_inside_the_picture_and_none_on_another(world, preset):
    desk = make_desk(preset, "WF", [world.org_a], {world.agent: "agent"})
    drawn = workflow_diagram(desk, "en")
    assert drawn["engine"] == "graphviz"
    width, height = drawn["width"], drawn["height"]
    wf = desk.workflow.workflow
    assert {n.key for n in drawn["nodes"]} == set(wf.statuses)
    for n in drawn["nodes"]:  # the last column is not cut off
        assert n.x >= 0 and n.x + NODE_W <= width, (n.key, n.x, width)
        assert n.y >= 0 and n.y + NODE_H <= height, (n.key, n.y, height)
    assert overlapping([(n.x, n.y) for n in drawn["nodes"]]) == []
    assert drawn["edges"]
    for e in drawn["edges"]:
        points = _numbers(e.path)
        assert len(points) >= 4 and (len(points) - 1) % 3 == 0  # cubic Bézier pieces
        # the curve itself (not its control points) stays inside the picture
        assert all(-1 <= x <= width + 1 and -1 <= y <= height + 1 for x, y in _curve(points)), e


def _curve(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i : i + 4]
        for step in range(11):
            t = step / 10
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            out.append(
                (
                    a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                    a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
                )
            )
    return out


@needs_dot
def test_the_page_draws_what_graphviz_placed(client, world):
    desk = make_desk("assu", "WF", [world.org_a], {world.agent: "agent"})
    client.force_login(world.agent)
    page = client.get(f"/agent/desks/{desk.pk}/workflow/").content.decode()
    assert 'data-layout="graphviz"' in page and "dagre" not in page
    assert page.count('<path class="edge') == len(workflow_diagram(desk, "en")["edges"])
    assert re.search(r'<path class="edge \w+" data-source="\w+" data-target="\w+" d="M', page)
    assert re.search(
        r'<g class="node [^"]*" data-key="\w+" data-column="\d" transform="translate\(', page
    )


def test_no_text_of_the_workflow_reaches_dot(world, monkeypatch):
    desk = make_desk("assu", "WF", [world.org_a], {world.agent: "agent"})
    seen: list[str] = []
    real, real_which = subprocess.run, shutil.which

    def spy(args, **kwargs):
        seen.append(kwargs["input"])
        return real(args, **kwargs)

    layout._graphviz.cache_clear()
    monkeypatch.setattr(layout.subprocess, "run", spy)
    monkeypatch.setattr(layout.shutil, "which", lambda name: real_which(name) or "/bin/false")
    workflow_diagram(desk, "en")
    (dot_input,) = seen
    names = set(re.findall(r"\b[a-z_]{3,}\b", dot_input))
    allowed = {"digraph", "rankdir", "nodesep", "ranksep", "splines", "true", "node", "newrank"}
    allowed |= {"rank", "same", "constraint", "false", "style", "invis", "weight"}
    assert names <= allowed | {"shape", "box", "fixedsize", "label", "width", "height"}
    for key in desk.workflow.workflow.statuses:
        assert key not in dot_input


def test_without_graphviz_the_browser_lays_it_out(client, world, monkeypatch):
    monkeypatch.setattr(layout.shutil, "which", lambda name: None)
    desk = make_desk("assu", "WF", [world.org_a], {world.agent: "agent"})
    drawn = workflow_diagram(desk, "en")
    assert drawn["engine"] == "browser" and all(e.path == "" for e in drawn["edges"])
    client.force_login(world.agent)
    page = client.get(f"/agent/desks/{desk.pk}/workflow/").content.decode()
    assert 'data-layout="browser"' in page
    assert "/static/agent/dagre.min.js" in page and "/static/agent/workflow-layout.js" in page
    figure = page.split('<figure class="diagram"')[1].split("</figure>")[0]
    assert figure.count('<path class="edge') == len(drawn["edges"])
    assert not re.search(r'<path class="edge[^>]* d="', figure)


def test_a_dot_that_fails_hands_the_layout_to_the_browser(world, monkeypatch):
    layout._graphviz.cache_clear()
    monkeypatch.setattr(layout.shutil, "which", lambda name: "/bin/false")
    desk = make_desk("tms", "WF", [world.org_a], {world.agent: "agent"})
    assert workflow_diagram(desk, "en")["engine"] == "browser"
    layout._graphviz.cache_clear()


def test_the_setting_sends_every_diagram_to_the_browser(world, settings):
    settings.CASEDESK_DIAGRAM_LAYOUT = "browser"
    desk = make_desk("tms", "WF", [world.org_a], {world.agent: "agent"})
    assert workflow_diagram(desk, "en")["engine"] == "browser"


def test_the_vendored_layout_library_ships_with_its_licence():
    from pathlib import Path

    static = Path(layout.__file__).parent / "static" / "agent"
    assert (static / "dagre.min.js").stat().st_size > 10_000
    assert "Permission is hereby granted" in (static / "dagre.LICENSE.txt").read_text()
