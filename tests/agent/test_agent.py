"""The agent workspace, through the real URLs, as staff with and without a role."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.desks.models import Team
from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket, TicketLink
from tests.helpers import fresh, version
from tests.pages import body


@pytest.fixture
def agent(client, world):
    client.force_login(world.agent)
    return client


def _version(ticket) -> int:
    ticket.refresh_from_db()
    return ticket.version


def test_queues(agent, world, ticket):
    mine = services.ticket_create(actor=world.amir, desk=world.desk, title="Mine soon")
    services.ticket_assign(actor=world.agent, ticket=mine, assignee=world.agent)
    waiting = services.ticket_create(actor=world.bob, desk=world.desk, title="Ask them")
    services.ticket_transition(
        actor=world.agent, ticket=waiting, transition="ask_customer", comment="which?"
    )
    page = agent.get("/agent/").content.decode()  # "mine" by default
    assert mine.key in page and ticket.key not in page
    page = agent.get("/agent/?queue=unassigned").content.decode()
    assert ticket.key in page and mine.key not in page
    page = agent.get("/agent/?queue=waiting").content.decode()
    assert waiting.key in page and ticket.key not in page
    page = agent.get(f"/agent/?queue=all&desk={world.desk.pk}&status=new").content.decode()
    assert ticket.key in page and waiting.key not in page
    page = agent.get("/agent/?queue=recent&q=soon").content.decode()
    assert mine.key in page and ticket.key not in page
    team = Team.objects.get(desk=world.desk, slug="support")
    team.members.add(world.agent)
    services.ticket_route(actor=world.agent, ticket=ticket, team=team)
    page = agent.get("/agent/?queue=teams").content.decode()
    assert ticket.key in page and mine.key not in page
    assert agent.get("/agent/?queue=x&desk=abc&sort=y&cursor=z").status_code == 200


def test_queues_filter_active_and_inactive_within_the_agents_desks(agent, world, ticket):
    done = services.ticket_create(actor=world.bob, desk=world.desk, title="Called off")
    services.ticket_transition(actor=world.agent, ticket=done, transition="cancel", comment="x")
    page = agent.get("/agent/?queue=all&state=any&activity=inactive").content.decode()
    assert done.key in page and ticket.key not in page and 'class="inactive"' in page
    page = agent.get("/agent/?queue=all&state=any&activity=active").content.decode()
    assert ticket.key in page and done.key not in page
    # staff of no desk see nothing, whichever filter they choose
    agent.force_login(world.outsider)
    page = agent.get("/agent/?queue=all&state=any&activity=inactive").content.decode()
    assert done.key not in page


def _groups(page: str) -> dict[str, list[str]]:
    """The transition keys of each group of moves on a staff ticket page."""
    card = page.split('aria-label="Usual next steps"')[1].split("</section>")[0]
    usual, rest = [*card.split('<details class="more-moves'), ""][:2]
    if not rest:
        usual, rest = card.split('id="ending-heading"')[0], card
    more, ending = [*rest.split('id="ending-heading"'), ""][:2]
    if 'id="ending-heading"' not in card:
        more, ending = rest, ""

    def keys(part: str) -> list[str]:
        return list(dict.fromkeys(re.findall(r'/act/(\w+)/"', part)))

    return {"usual": keys(usual), "more": keys(more), "ending": keys(ending)}


def test_the_ticket_page_groups_the_moves(agent, world, ticket):
    groups = _groups(agent.get(f"/agent/t/{ticket.key}/").content.decode())
    assert groups["usual"][:2] == ["start", "ask_customer"]
    # closing as a duplicate is the duplicate form (original, links, reason), not a move
    assert set(groups["ending"]) == {"cancel"}
    assert not set(groups["ending"]) & set(groups["usual"] + groups["more"])
    # the customer sees their own moves, ungrouped
    agent.force_login(world.alice)
    page = agent.get(f"/portal/t/{ticket.key}/").content.decode()
    assert "Usual next steps" not in page and "Steps that end the ticket" not in page


def test_a_refused_step_under_more_opens_it(agent, world):
    from tests.conftest import make_desk

    desk = make_desk("assu", "ASM", [world.org_a], {world.agent: "agent"})
    t = services.ticket_create(actor=world.alice, desk=desk, title="Crash")
    page = agent.get(f"/agent/t/{t.key}/").content.decode()
    groups = _groups(page)
    assert len(groups["usual"]) <= 3 and groups["more"] and groups["ending"]
    assert '<details class="more-moves">' in page
    response = agent.post(f"/agent/t/{t.key}/act/{groups['more'][0]}/", {"version": 999})
    assert response.status_code == 409  # someone else changed it: shown again, "more" open
    assert '<details class="more-moves" open>' in response.content.decode()


def test_queue_pages_follow_the_cursor(agent, world, clock):
    keys = []
    for n in range(55):
        keys.append(services.ticket_create(actor=world.alice, desk=world.desk, title=f"T{n}").key)
        clock.advance(minutes=1)
    page = agent.get("/agent/?queue=all").content.decode()
    assert keys[-1] in page and f'value="{keys[0]}"' not in page
    import re

    next_link = re.search(r'href="\?([^"]*cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    page = agent.get(f"/agent/?{next_link}").content.decode()
    assert f'value="{keys[0]}"' in page and f'value="{keys[-1]}"' not in page


def test_outsider_staff_see_nothing(client, world, ticket):
    client.force_login(world.outsider)
    assert ticket.key not in client.get("/agent/?queue=all").content.decode()
    missing = client.get("/agent/t/GEN-999/")
    theirs = client.get(f"/agent/t/{ticket.key}/")
    assert missing.status_code == theirs.status_code == 404
    assert body(missing) == body(theirs)
    response = client.post(
        f"/agent/t/{ticket.key}/reply/", {"version": version(ticket), "body": "x"}
    )
    assert response.status_code == 404
    assert client.get(f"/agent/desks/{world.desk.pk}/workflow/").status_code == 404
    assert not Comment.objects.exists()


def test_customers_have_no_workspace(client, world, ticket):
    client.force_login(world.alice)
    for url in ("/agent/", f"/agent/t/{ticket.key}/", "/agent/new/", "/agent/desks/"):
        assert client.get(url).status_code == 404
    assert client.post("/agent/bulk/", {"keys": [ticket.key], "op": "assign_me"}).status_code == 404


def test_ticket_page_shows_notes_and_everything(agent, world, ticket):
    services.comment_add(actor=world.agent, ticket=ticket, body="CANARY-note", internal=True)
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert "CANARY-note" in page and "Internal note" in page
    assert "Start work" in page and "Ask the customer" in page
    assert "Org A" in page


def test_reply_and_note(agent, world, ticket):
    response = agent.post(
        f"/agent/t/{ticket.key}/reply/",
        {"body": "Public words", "internal": "0", "version": _version(ticket)},
    )
    assert response.status_code == 302
    response = agent.post(
        f"/agent/t/{ticket.key}/reply/",
        {"body": "Secret words", "internal": "1", "version": _version(ticket)},
    )
    assert response.status_code == 302
    assert list(Comment.objects.values_list("body", "internal")) == [
        ("Public words", False),
        ("Secret words", True),
    ]
    response = agent.post(
        f"/agent/t/{ticket.key}/reply/", {"version": version(ticket), "body": "", "internal": "0"}
    )
    assert response.status_code == 422


def test_transition_with_requirements_and_sub_status(agent, world, ticket):
    response = agent.post(f"/agent/t/{ticket.key}/act/start/", {"version": _version(ticket)})
    assert response.status_code == 422  # start needs an assignee
    response = agent.post(
        f"/agent/t/{ticket.key}/act/start/",
        {"version": _version(ticket), "assignee": world.agent.pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("open", world.agent)
    response = agent.post(
        f"/agent/t/{ticket.key}/act/resolve/",
        {"version": _version(ticket), "comment": "Fixed", "comment_internal": "1"},
    )
    assert response.status_code == 302
    assert Comment.objects.get().internal


def test_stale_change_is_explained_and_keeps_the_text(agent, world, ticket):
    old = _version(ticket)
    services.comment_add(actor=world.alice, ticket=ticket, body="meanwhile")
    response = agent.post(
        f"/agent/t/{ticket.key}/reply/", {"body": "My long TYPED answer", "version": old}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "My long TYPED answer" in page and "changed this ticket" in page
    assert Comment.objects.count() == 1


def test_assign_contact_route_edit(agent, world, ticket):
    team = Team.objects.get(desk=world.desk, slug="support")
    assert (
        agent.post(
            f"/agent/t/{ticket.key}/assign/",
            {"version": version(ticket), "assignee": world.lead.pk},
        ).status_code
        == 302
    )
    assert (
        agent.post(
            f"/agent/t/{ticket.key}/contact/",
            {"version": version(ticket), "customer_assignee": world.anna.pk},
        ).status_code
        == 302
    )
    assert (
        agent.post(
            f"/agent/t/{ticket.key}/route/", {"version": version(ticket), "team": team.pk}
        ).status_code
        == 302
    )
    response = agent.post(
        f"/agent/t/{ticket.key}/edit/",
        {
            "version": version(ticket),
            "title": "Better title",
            "priority": "high",
            "type": "question",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.customer_assignee, ticket.team) == (
        world.lead,
        world.anna,
        team,
    )
    assert (ticket.title, ticket.priority, ticket.type) == ("Better title", "high", "question")
    # a person of another organisation cannot be the contact
    response = agent.post(
        f"/agent/t/{ticket.key}/contact/",
        {"version": version(ticket), "customer_assignee": world.bob.pk},
    )
    assert response.status_code == 422
    ticket.refresh_from_db()
    assert ticket.customer_assignee == world.anna
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert "routed the ticket to Support" in page and "Better title" in page


def test_mark_duplicate(agent, world, ticket):
    dup = services.ticket_create(actor=world.amir, desk=world.desk, title="Same printer")
    form = {"original": ticket.key.lower(), "comment": "Same as the other"}
    form["version"] = _version(dup)
    # closing a ticket for good is confirmed first
    response = agent.post(f"/agent/t/{dup.key}/duplicate/", form)
    assert response.status_code == 422
    assert "Please tick the box to confirm this step." in response.content.decode()
    assert fresh(dup).status == "new"
    response = agent.post(f"/agent/t/{dup.key}/duplicate/", {**form, "confirm": "1"})
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.status == "closed"
    assert TicketLink.objects.filter(source=dup, target=ticket, kind="duplicate_of").exists()
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert dup.key in page
    other = services.ticket_create(actor=world.alice, desk=world.other_desk, title="Elsewhere")
    response = agent.post(
        f"/agent/t/{ticket.key}/duplicate/",
        {"version": version(ticket), "original": other.key, "confirm": "1"},
    )
    assert response.status_code == 422
    assert other.key not in TicketLink.objects.values_list("target__key", flat=True)


def test_a_duplicate_is_closed_only_through_the_duplicate_form(agent, world, ticket):
    """The workflow's duplicate move is not a plain button: it would close the ticket
    without its original, links or title prefix."""
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert 'action="/agent/t/GEN-1/act/close_duplicate/"' not in page
    assert 'action="/agent/t/GEN-1/duplicate/"' in page
    response = agent.post(
        f"/agent/t/{ticket.key}/act/close_duplicate/",
        {"version": version(ticket), "confirm": "1", "comment": "dup"},
    )
    assert response.status_code == 403
    assert fresh(ticket).status == "new"
    assert not TicketLink.objects.exists()


def test_register_for_a_customer_who_phoned(agent, world):
    page = agent.get(f"/agent/new/?desk={world.desk.pk}").content.decode()
    assert 'list="customers"' in page and "alice" in page
    response = agent.post(
        "/agent/new/",
        {
            "desk": world.desk.pk,
            "customer": "bob@example.org",
            "channel": "phone",
            "title": "Called about invoices",
            "attachments": [SimpleUploadedFile("notes.txt", b"call notes")],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.reporter, ticket.created_by, ticket.channel) == (world.bob, world.agent, "phone")
    response = agent.post(
        "/agent/new/", {"desk": world.desk.pk, "customer": "nobody", "title": "X TYPED"}
    )
    assert response.status_code == 422
    assert "X TYPED" in response.content.decode()
    response = agent.post(
        "/agent/new/",
        {"desk": world.desk.pk, "customer": "bob", "title": "Y", "priority": "sky-high"},
    )
    assert response.status_code == 422  # the reason stands next to its field
    assert "“sky-high” is not a priority of this desk." in response.content.decode()
    assert Ticket.objects.count() == 1


def test_bulk_assign_and_transition_report_each_ticket(agent, world, ticket):
    other = services.ticket_create(actor=world.bob, desk=world.desk, title="B")
    foreign = services.ticket_create(actor=world.alice, desk=world.other_desk, title="F")

    def rows(*tickets):  # what the queue page posts: each ticket with the version it showed
        return {f"version:{t.key}": version(t) for t in tickets}

    response = agent.post(
        "/agent/bulk/",
        {"keys": [ticket.key, other.key, foreign.key], "op": "assign_me"}
        | rows(ticket, other, foreign),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("✓") == 2 and "No such ticket on your desks." in page
    assert Ticket.objects.filter(assignee=world.agent).count() == 2
    response = agent.post(
        "/agent/bulk/",
        {"keys": [ticket.key, other.key], "op": "transition", "transition": "resolve"}
        | rows(ticket, other),
    )
    assert "Please fill this in." in response.content.decode()
    response = agent.post("/agent/bulk/", {"keys": [ticket.key], "op": "transition"})
    assert "Choose what to do." in response.content.decode()
    shown = rows(ticket, other)
    services.comment_add(actor=world.bob, ticket=other, body="meanwhile", expected_version=None)
    response = agent.post(
        "/agent/bulk/",
        {
            "keys": [ticket.key, other.key],
            "op": "transition",
            "transition": "resolve",
            "comment": "done",
        }
        | shown,
    )
    assert "someone else changed" in response.content.decode().lower()
    ticket.refresh_from_db()
    other.refresh_from_db()
    assert (ticket.status, other.status) == ("resolved", "new")  # the changed one is left
    no_version = agent.post("/agent/bulk/", {"keys": [other.key], "op": "unassign"})
    assert "Reload the page" in no_version.content.decode()
    assert fresh(other).assignee == world.agent


@pytest.mark.parametrize("preset", ["default", "tms", "assu", "twovalue", "sda", "servisni_list"])
def test_workflow_diagram_and_guide_of_every_preset(agent, world, preset):
    from tests.conftest import make_desk

    desk = make_desk(preset, "WF", [world.org_a], {world.agent: "agent"})
    page = agent.get(f"/agent/desks/{desk.pk}/workflow/").content.decode()
    assert "<svg" in page and 'class="edge' in page and "<table" in page
    wf = desk.workflow.workflow
    for status in wf.statuses.values():
        assert wf.text(status.label, "en") in page
    assert agent.get(f"/portal/guide/{desk.pk}/").status_code == 200
    assert agent.get("/agent/desks/").status_code == 200


def test_a_step_that_needs_a_field_asks_for_it_next_to_the_field(agent, world):
    from tests.conftest import make_desk

    desk = make_desk("assu", "ASU", [world.org_a], {world.agent: "agent"})
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="Crash")
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert 'name="field:fix_version"' in page
    response = agent.post(
        f"/agent/t/{ticket.key}/act/wachten_op_update/",
        {"version": _version(ticket), "field:fix_version": "not a version!"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and "not a version!" in page
    response = agent.post(
        f"/agent/t/{ticket.key}/act/wachten_op_update/",
        {"version": _version(ticket), "field:fix_version": "7.3.1"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.fields["fix_version"]) == ("wachtend_op_update", "7.3.1")


def test_staff_read_the_workflows_note_for_the_status_and_customers_do_not(agent, world, client):
    from tests.conftest import make_desk

    desk = make_desk("twovalue", "TWO", [world.org_a], {world.agent: "agent"})
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="Mail is slow")
    note = desk.workflow.workflow.statuses["open"].staff_note
    assert note is not None
    page = agent.get(f"/agent/t/{ticket.key}/").content.decode()
    assert 'class="staff-note"' in page and note["en"] in page
    client.force_login(world.alice)
    response = client.get(f"/portal/t/{ticket.key}/")
    portal = response.content.decode()
    assert response.status_code == 200 and "Mail is slow" in portal
    assert "staff-note" not in portal
    assert note["en"] not in portal and note["nl"] not in portal
