"""The main story in a real browser: Debian's Chromium driven by Playwright against a live
server. A customer opens a ticket, an agent answers and sends it for confirmation, the
customer confirms; a customer of another organisation cannot open it; the language switch
works; hostile text does not run. Screenshots of the main pages go to
test-artifacts/screenshots/ (README's pictures are copies of these)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from casedesk.tickets import services
from casedesk.tickets.models import Ticket

CHROMIUM = os.environ.get("CASEDESK_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None,
    reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does this)",
)


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls
    # are ordinary synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class Session:
    def __init__(
        self, browser, base: str, username: str, *, width: int = 1280, zone: str | None = None
    ):
        self.base = base
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-GB", timezone_id=zone
        )
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on(
            "request",
            lambda r: self.foreign.append(r.url) if not r.url.startswith((base, "data:")) else None,
        )
        self.page.goto(f"{base}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", "pw-12345678")
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state("networkidle")

    def go(self, path: str):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_customer_agent_customer_story(browser, live_server, world):
    base = live_server.url
    world.alice.first_name, world.alice.last_name = "Alice", "Jensen"
    world.alice.save()
    world.agent.first_name, world.agent.last_name = "Agnes", "Agent"
    world.agent.save()
    services.ticket_create(actor=world.amir, desk=world.desk, title="VPN drops every hour")

    alice = Session(browser, base, "alice")
    page = alice.go(f"/portal/new/?desk={world.desk.pk}")
    page.fill("#id_title", "Invoices cannot be exported")
    page.select_option("#id_priority", "high")
    page.fill("#id_description", "The **export** button does nothing since Monday.")
    page.set_input_files(
        "#id_attachments", files=[{"name": "log.txt", "mimeType": "text/plain", "buffer": b"x"}]
    )
    alice.shot("portal-new-ticket")
    page.get_by_role("button", name="Send the ticket").click()
    page.wait_for_load_state("networkidle")
    key = page.locator("#ticket-key").inner_text()
    ticket = Ticket.objects.get(key=key)
    assert ticket.reporter == world.alice and ticket.attachments.count() == 1
    alice.shot("portal-created")

    agent = Session(browser, base, "agent")
    page = agent.go("/agent/?queue=unassigned")
    assert key in page.content()
    agent.shot("agent-queue")
    page = agent.go(f"/agent/t/{key}/")
    page.fill("#id_body", "Thanks, we are looking at it.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_text("Resolve…").click()
    page.fill("#c-resolve", "The export works again after the update.")
    page.locator("details.action[open] form").get_by_role("button", name="Resolve").click()
    page.wait_for_load_state("networkidle")
    assert "Resolved" in page.locator("#status-heading").inner_text()
    agent.shot("agent-ticket")

    page = alice.go(f"/portal/t/{key}/")
    assert "Your turn" in page.content()
    assert "closes on" in page.locator("#next-event").inner_text()
    alice.shot("portal-ticket")
    page.get_by_text("Confirm it is solved…").click()
    page.locator("details.action[open] input[name=confirm]").check()
    page.locator("details.action[open] form").get_by_role(
        "button", name="Confirm it is solved"
    ).click()
    page.wait_for_load_state("networkidle")
    assert "Closed" in page.locator("#status-heading").inner_text()
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    alice.go("/portal/?state=any")
    alice.shot("portal-list")
    alice.go(f"/portal/guide/{world.desk.pk}/")
    alice.shot("portal-status-guide")
    agent.go(f"/agent/desks/{world.desk.pk}/workflow/")
    agent.shot("agent-workflow")

    bob = Session(browser, base, "bob")
    response = bob.page.goto(f"{base}/portal/t/{key}/")
    assert response.status == 404
    assert "Invoices cannot be exported" not in bob.page.content()
    for session in (alice, agent, bob):
        assert not session.dialogs and not session.foreign


def test_language_switch(browser, live_server, world):
    alice = Session(browser, live_server.url, "alice")
    page = alice.go("/portal/")
    page.select_option("#lang-select", "da")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("html[lang=da]")
    assert "Ny sag" in page.content()
    world.alice.refresh_from_db()
    assert world.alice.language == "da"
    page = alice.go("/portal/")
    assert page.locator("html").get_attribute("lang") == "da"


def test_times_follow_the_browsers_zone_until_the_person_chooses_one(browser, live_server, world):
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="Printer")
    alice = Session(browser, live_server.url, "alice", zone="Pacific/Auckland")
    page = alice.go(f"/portal/t/{ticket.key}/")
    assert "Times are in your browser's time zone, Pacific/Auckland." in page.content()
    page = alice.go("/account/time-zone/")
    assert "Your browser says it is in Pacific/Auckland." in page.content()
    page.select_option("#time_zone", "Europe/Prague")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    world.alice.refresh_from_db()
    assert world.alice.time_zone == "Europe/Prague"
    page = alice.go("/portal/")
    assert "Times are in your time zone, Europe/Prague." in page.content()


DIAGRAM_BOXES = """() => {
  const svg = document.querySelector('#workflow-diagram');
  const box = svg.getBoundingClientRect();
  const frame = svg.closest('figure').getBoundingClientRect();
  const nodes = [...svg.querySelectorAll('g.node rect')].map(r => r.getBoundingClientRect());
  const edges = [...svg.querySelectorAll('path.edge')];
  return {
    svg: [box.left, box.top, box.right, box.bottom],
    frame: [frame.left, frame.top, frame.right, frame.bottom],
    nodes: nodes.map(r => [r.left, r.top, r.right, r.bottom]),
    drawn: edges.filter(e => (e.getAttribute('d') || '').startsWith('M')).length,
    edges: edges.length,
  };
}"""


def _check_diagram(found: dict) -> None:
    left, top, right, bottom = found["svg"]
    # the whole picture fits its frame: nothing to scroll to, no column cut off
    assert found["frame"][0] <= left and right <= found["frame"][2], (found["svg"], found["frame"])
    for x1, y1, x2, y2 in found["nodes"]:  # nothing cut off
        assert left - 1 <= x1 and x2 <= right + 1 and top - 1 <= y1 and y2 <= bottom + 1
    boxes = found["nodes"]
    for i, a in enumerate(boxes):  # no box on another
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert found["edges"] > 10 and found["drawn"] == found["edges"]


@pytest.mark.parametrize("engine", ["graphviz", "browser"])
def test_the_workflow_diagram_is_laid_out_by_either_engine(
    browser, live_server, world, settings, engine
):
    from tests.conftest import make_desk

    if engine == "graphviz" and shutil.which("dot") is None:
        pytest.skip("needs Graphviz (dot)")
    settings.CASEDESK_DIAGRAM_LAYOUT = "browser" if engine == "browser" else "auto"
    desk = make_desk("assu", "WFX", [world.org_a], {world.agent: "agent"})
    agent = Session(browser, live_server.url, "agent")
    page = agent.go(f"/agent/desks/{desk.pk}/workflow/")
    assert page.locator("figure.diagram").get_attribute("data-layout") == engine
    if engine == "browser":
        page.wait_for_selector('figure.diagram[data-laid-out="true"]')
    _check_diagram(page.evaluate(DIAGRAM_BOXES))
    agent.shot(f"agent-workflow-assu-{engine}")


def test_phone_layout_and_keyboard(browser, live_server, world):
    services.ticket_create(actor=world.alice, desk=world.desk, title="Printer")
    alice = Session(browser, live_server.url, "alice", width=390)
    page = alice.go("/portal/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    alice.shot("portal-list-phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"


def test_hostile_text_does_not_run_in_the_browser(browser, live_server, world):
    from tests.web.test_xss import PAYLOADS

    for payload in PAYLOADS:
        t = services.ticket_create(
            actor=world.alice, desk=world.desk, title=payload[:300], description=payload
        )
        services.comment_add(actor=world.alice, ticket=t, body=payload)
    alice = Session(browser, live_server.url, "alice")
    alice.go("/portal/?state=any")
    for t in Ticket.objects.all()[:8]:
        alice.go(f"/portal/t/{t.key}/")
    agent = Session(browser, live_server.url, "agent")
    agent.go("/agent/?queue=all")
    for session in (alice, agent):
        assert not session.dialogs, session.dialogs
        assert not session.foreign, session.foreign


def test_a_step_that_ends_the_ticket_asks_for_confirmation(browser, live_server, world):
    """Closing is for good: without the tick nothing happens and the form says why."""
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="Scanner offline")
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="resolve", comment="Driver reinstalled."
    )
    alice = Session(browser, live_server.url, "alice")
    page = alice.go(f"/portal/t/{ticket.key}/")
    page.get_by_text("Confirm it is solved…").click()
    form = page.locator("details.action[open] form")
    assert form.get_by_text("I understand that this ends the ticket.").is_visible()
    form.get_by_role("button", name="Confirm it is solved").click()
    page.wait_for_load_state("networkidle")
    assert "Please tick the box to confirm this step." in page.content()
    assert (
        page.locator("details.action[open] input[name=confirm]").get_attribute("aria-invalid")
        == "true"
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    page.locator("details.action[open] input[name=confirm]").check()
    page.locator("details.action[open] form").get_by_role(
        "button", name="Confirm it is solved"
    ).click()
    page.wait_for_load_state("networkidle")
    assert "Closed" in page.locator("#status-heading").inner_text()
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert not alice.dialogs and not alice.foreign


def test_a_duplicate_is_closed_with_its_original_and_reason_seen_from_both_sides(
    browser, live_server, world
):
    """An agent marks a duplicate on a desk whose document wants a reason for every
    cancellation; the customers then read the link and the reason on both tickets."""
    from tests.conftest import make_desk

    desk = make_desk("sda", "SDA", [world.org_a], {world.agent: "agent"})
    original = services.ticket_create(actor=world.alice, desk=desk, title="Robot cell 3 stops")
    dup = services.ticket_create(actor=world.amir, desk=desk, title="Cell 3 halts at noon")

    agent = Session(browser, live_server.url, "agent")
    page = agent.go(f"/agent/t/{dup.key}/")
    # the workflow's own duplicate move is no plain button next to the others
    assert (
        page.locator(
            f"form[action$='/act/{desk.workflow.workflow.duplicates.transition}/']"
        ).count()
        == 0
    )
    page.locator("#duplicate summary").click()
    page.fill("#original", original.key)
    page.locator("#duplicate").get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    # no reason, no confirmation: refused, and nothing changed
    assert page.locator("#duplicate[open] .field-error").count() >= 1
    dup.refresh_from_db()
    assert dup.status == "waiting_for_support"
    page.fill("#dup-comment", "Same stop as the cell 3 case; we follow it there.")
    page.locator("#cf-duplicate").check()
    page.locator("#duplicate").get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    dup.refresh_from_db()
    assert dup.status == "cancelled" and dup.title == "DUBBLETT: Cell 3 halts at noon"
    assert original.key in page.content()

    amir = Session(browser, live_server.url, "amir")
    page = amir.go(f"/portal/t/{dup.key}/")
    text = page.content()
    assert "Duplicate of" in text and original.key in text
    assert "Same stop as the cell 3 case; we follow it there." in text
    assert "Cancelled" in page.locator("#status-heading").inner_text()
    page.get_by_role("link", name=original.key).click()
    page.wait_for_load_state("networkidle")
    assert "Has duplicate" in page.content() and dup.key in page.content()
    assert "Robot cell 3 stops" in page.content()
    for session in (agent, amir):
        assert not session.dialogs and not session.foreign
