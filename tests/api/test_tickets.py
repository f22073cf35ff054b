"""Tickets through the API: the same rules as everywhere, with the next step for the caller."""

from __future__ import annotations

from casedesk.tickets import services
from casedesk.tickets.models import Ticket, TicketEvent
from tests.helpers import version


def test_a_customer_opens_and_reads_a_ticket_with_their_next_step(world, as_user):
    alice = as_user("alice")
    made = alice.post(
        "tickets", {"desk": world.desk.pk, "title": "Printer", "description": "*hot*"}
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["key"] == "GEN-1" and made["Location"] == "/api/v1/tickets/GEN-1"
    assert body["description_html"] == "<p><em>hot</em></p>"
    assert body["next_step"]["turn"] == "supplier"
    assert made["ETag"] == '"1"'
    assert Ticket.objects.get().channel == "api"
    read = alice.get("tickets/gen-1")
    assert read.status_code == 200 and read.json()["status_label"] == "Waiting for support"
    assert [a["key"] for a in read.json()["next_step"]["actions"]] == ["cancel"]


def test_staff_change_fields_with_optimistic_concurrency(world, as_user, ticket):
    agent = as_user("agent")
    first = agent.get(f"tickets/{ticket.key}")
    etag = first["ETag"]
    ok = agent.patch(f"tickets/{ticket.key}", {"priority": "high"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.json()["priority"] == "high"
    stale = agent.patch(f"tickets/{ticket.key}", {"title": "late"}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json()["kind"] == "conflict" and stale.json()["current_version"] == 2
    assert Ticket.objects.get().title == "Printer on fire"
    also_stale = agent.patch(f"tickets/{ticket.key}", {"title": "late", "version": 1})
    assert also_stale.status_code == 409


def test_list_with_filters_and_keyset_pages(world, as_user, clock):
    for n in range(5):
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"printer {n}")
        clock.advance(minutes=1)
    services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-bob printer")
    alice = as_user("alice")
    first = alice.get("tickets?limit=2&q=printer").json()
    assert [t["title"] for t in first["items"]] == ["printer 4", "printer 3"]
    second = alice.get(f"tickets?limit=2&q=printer&cursor={first['next_cursor']}").json()
    assert [t["title"] for t in second["items"]] == ["printer 2", "printer 1"]
    bad = alice.get("tickets?cursor=forged")
    assert bad.status_code == 422 and "cursor" in bad.json()["errors"]
    assert alice.get("tickets?limit=1000").status_code == 422
    agent = as_user("agent")
    assert len(agent.get(f"tickets?organisation={world.org_b.pk}").json()["items"]) == 1
    assert agent.get("tickets?category=new&category=closed").status_code == 200


def test_list_filters_active_and_inactive(world, as_user):
    going = services.ticket_create(actor=world.alice, desk=world.desk, title="Still going")
    done = services.ticket_create(actor=world.alice, desk=world.desk, title="Called off")
    services.ticket_transition(actor=world.agent, ticket=done, transition="cancel", comment="x")
    bobs = services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-bob")
    services.ticket_transition(actor=world.agent, ticket=bobs, transition="cancel", comment="x")
    alice = as_user("alice")
    inactive = alice.get("tickets?active=false").json()["items"]
    assert [(t["key"], t["active"]) for t in inactive] == [(done.key, False)]
    active = alice.get("tickets?active=true").json()["items"]
    assert [t["key"] for t in active] == [going.key]
    agent = as_user("agent")
    assert {t["key"] for t in agent.get("tickets?active=false").json()["items"]} == {
        done.key,
        bobs.key,
    }
    assert alice.get("tickets?active=maybe").status_code == 422


def test_transitions_list_what_the_caller_may_do_and_refusals_say_why(world, as_user, ticket):
    alice, agent = as_user("alice"), as_user("agent")
    offered = agent.get(f"tickets/{ticket.key}/transitions").json()
    resolve = next(a for a in offered["actions"] if a["key"] == "resolve")
    assert resolve["needs"] == ["comment"] and resolve["prompt"] == "Describe the solution"
    refused = alice.post(
        f"tickets/{ticket.key}/transitions", {"version": version(ticket), "transition": "resolve"}
    )
    assert refused.status_code == 403 and refused.json()["reason"] == "role"
    missing = agent.post(
        f"tickets/{ticket.key}/transitions", {"version": version(ticket), "transition": "resolve"}
    )
    assert missing.status_code == 422 and missing.json()["missing"] == ["comment"]
    before = TicketEvent.objects.count()
    done = agent.post(
        f"tickets/{ticket.key}/transitions",
        {"transition": "resolve", "comment": "fixed", "version": 1},
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert TicketEvent.objects.count() > before
    keys = [a["key"] for a in alice.get(f"tickets/{ticket.key}/transitions").json()["actions"]]
    assert set(keys) == {"confirm", "reopen", "cancel"}


def test_the_staff_note_of_a_status_reaches_staff_only(world, as_user):
    from tests.conftest import make_desk

    desk = make_desk("twovalue", "TWO", [world.org_a], {world.agent: "agent"})
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="Mail is slow")
    note = desk.workflow.workflow.statuses["open"].staff_note
    staff = as_user("agent").get(f"tickets/{ticket.key}").json()["next_step"]
    assert note is not None and staff["staff_note"] == note["en"]
    for name in ("alice", "amir", "anna", "ada"):
        read = as_user(name).get(f"tickets/{ticket.key}")
        assert read.status_code == 200 and read.json()["next_step"]["staff_note"] == ""
    assert as_user("bob").get(f"tickets/{ticket.key}").status_code == 404
