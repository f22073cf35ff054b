"""Conversation, files, links, followers, history, desks and people through the API, and
the number of SQL statements each read costs (fixed, whatever the number of rows)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import Organisation, User
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from tests.helpers import version

from .conftest import Api


def upload(api: Api, key: str, *files, internal=False):
    data = {"files": list(files)}
    if internal:
        data["internal"] = "true"
    return api.client.post(f"/api/v1/tickets/{key}/attachments", data, headers=api.headers)


def test_comments_notes_and_files(world, ticket):
    alice, agent = Api(world.alice), Api(world.agent)
    made = alice.post(
        f"tickets/{ticket.key}/comments",
        {"version": version(ticket), "body": "It **still** smokes <script>"},
    )
    assert made.status_code == 201 and made["ETag"] == '"2"'
    assert made.json()["body_html"] == "<p>It <strong>still</strong> smokes </p>"
    agent.post(
        f"tickets/{ticket.key}/comments",
        {"version": version(ticket), "body": "CANARY-note", "internal": True},
    )
    assert len(agent.get(f"tickets/{ticket.key}/comments").json()) == 2
    seen = alice.get(f"tickets/{ticket.key}/comments").json()
    assert [c["body"] for c in seen] == ["It **still** smokes <script>"]

    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    stored = upload(alice, ticket.key, pdf)
    assert stored.status_code == 201, stored.content
    (info,) = stored.json()
    hidden = upload(agent, ticket.key, SimpleUploadedFile("n.txt", b"secret"), internal=True)
    assert hidden.status_code == 201
    exe = upload(alice, ticket.key, SimpleUploadedFile("x.exe", b"MZ"))
    assert exe.status_code == 422 and "attachments.0" in exe.json()["errors"]
    assert [a["name"] for a in alice.get(f"tickets/{ticket.key}/attachments").json()] == [
        "report.pdf"
    ]
    download = alice.get(info["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    note_file = hidden.json()[0]["url"]
    assert alice.get(note_file).status_code == 404
    assert agent.get(note_file).status_code == 200


def test_links_duplicates_followers_and_history(world, ticket, clock):
    agent, alice = Api(world.agent), Api(world.alice)
    other = services.ticket_create(actor=world.alice, desk=world.desk, title="same printer")
    linked = agent.post(f"tickets/{ticket.key}/links", {"other": other.key})
    assert linked.status_code == 201
    assert linked.json()[0]["ticket"] == other.key and linked.json()[0]["direction"] == "outgoing"
    assert alice.post(f"tickets/{ticket.key}/links", {"other": other.key}).status_code == 403
    unknown = agent.post(f"tickets/{ticket.key}/links", {"other": "GEN-404"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"]["other"]["code"] == "ticket.other.unknown"
    dup = agent.post(
        f"tickets/{other.key}/duplicate",
        {"version": version(other), "original": ticket.key, "comment": "same"},
    )
    assert dup.status_code == 200 and dup.json()["category"] == "closed"
    kinds = {(x["kind"], x["direction"]) for x in alice.get(f"tickets/{other.key}/links").json()}
    assert ("duplicate_of", "outgoing") in kinds

    followed = alice.post(f"tickets/{ticket.key}/participants", {"person": world.amir.pk})
    assert followed.status_code == 201 and followed.json()["person"]["id"] == world.amir.pk
    bob_in = alice.post(f"tickets/{ticket.key}/participants", {"person": world.bob.pk})
    assert bob_in.status_code == 422  # not someone Alice can see: no such person
    people = alice.get(f"tickets/{ticket.key}/participants").json()
    assert [p["person"]["name"] for p in people] == ["amir"]
    gone = Api(world.amir).delete(f"tickets/{ticket.key}/participants/{world.amir.pk}")
    assert gone.status_code == 204
    assert alice.get(f"tickets/{ticket.key}/participants").json() == []

    services.ticket_edit(actor=world.agent, ticket=ticket, priority="high")
    history = alice.get(f"tickets/{ticket.key}/history").json()
    assert history[0]["kind"] == "created" and history[0]["actor"]["name"] == "alice"
    staff_history = agent.get(f"tickets/{ticket.key}/history").json()
    assert len(staff_history) >= len(history)


def test_desks_with_their_workflow_and_status_guide_per_language(world):
    alice = Api(world.alice)
    desks = alice.get("desks").json()
    assert {d["key_prefix"] for d in desks} == {"GEN", "OTH"}
    assert {d["key_prefix"] for d in Api(world.bob).get("desks").json()} == {"GEN"}
    desk = world.desk.pk
    wf = alice.get(f"desks/{desk}/workflow?lang=da").json()
    assert wf["language"] == "da" and wf["name"] == "Standard servicedesk"
    assert [s["key"] for s in wf["statuses"]][:2] == ["new", "open"]
    assert alice.get(f"desks/{desk}/workflow?lang=xx").status_code == 422
    guide = alice.get(f"desks/{desk}/status-guide?lang=nl").json()
    assert guide["language"] == "nl"
    resolved = next(s for s in guide["statuses"] if s["key"] == "resolved")
    assert {a["key"] for a in resolved["customer_actions"]} >= {"confirm", "reopen"}
    assert resolved["automatic"][0]["after"] == "7d"
    world.alice.language = "cs"
    world.alice.save()
    assert alice.get(f"desks/{desk}/status-guide").json()["language"] == "cs"


def test_organisations_and_people(world):
    admin, alice = Api(world.admin), Api(world.alice)
    assert alice.get("me").json()["username"] == "alice"
    assert [o["slug"] for o in alice.get("organisations").json()] == ["org-a"]
    assert alice.post("organisations", {"name": "Mine"}).status_code == 403
    org = admin.post("organisations", {"name": "Gamma", "language": "sv"})
    assert org.status_code == 201 and org.json()["slug"] == "gamma"
    changed = admin.patch(f"organisations/{org.json()['id']}", {"members_see_all_tickets": False})
    assert changed.json()["members_see_all_tickets"] is False
    person = admin.post(
        "users",
        {
            "username": "greta",
            "email": "greta@gamma.example",
            "kind": "customer",
            "organisation": org.json()["id"],
            "customer_role": "approver",
        },
    )
    assert person.status_code == 201, person.content
    assert not User.objects.get(username="greta").has_usable_password()
    off = admin.patch(f"users/{person.json()['id']}", {"is_active": False})
    assert off.json()["is_active"] is False
    names = [p["username"] for p in alice.get("users").json()]
    assert names == ["alice", "amir", "anna", "ada"]  # in the order they were made
    page = admin.get("users?limit=2").json()
    after = admin.get(f"users?limit=2&after={page[-1]['id']}").json()
    assert page[-1]["id"] < after[0]["id"]
    assert admin.get(f"users?kind=staff&organisation={world.org_a.pk}").json() == []
    assert Organisation.objects.filter(name="Gamma").exists()


def count(api: Api, path: str) -> int:
    """Statements of one read, after a first one in the same minute (which also records
    the token's use); savepoints of the test's transaction are not statements."""
    api.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return sum(1 for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))


def test_reads_cost_a_fixed_number_of_statements(world, ticket, clock):
    """T101: the statements a read costs do not grow with its rows. Each figure includes
    the token's lookup, its address's count of bad tokens and its rate counter
    (four statements)."""
    agent, alice = Api(world.agent), Api(world.alice)
    other = services.ticket_create(actor=world.bob, desk=world.desk, title="b")

    def grow():
        for n in range(8):
            t = services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}")
            services.ticket_assign(actor=world.agent, ticket=t, assignee=world.agent)
            services.comment_add(actor=world.alice, ticket=ticket, body=f"c{n}")
            services.comment_add(actor=world.agent, ticket=ticket, body=f"n{n}", internal=True)
            services.attachment_add(
                actor=world.alice, ticket=ticket, uploads=[BytesUpload(f"{n}.txt", b"x")]
            )
            services.ticket_link(actor=world.agent, ticket=ticket, other=t)
            services.participant_add(
                actor=world.agent, ticket=ticket, person=[world.amir, world.anna][n % 2]
            )

    # (as the agent, as the customer) A ticket's people other than the reader are read by
    # key beside it (tickets/selectors.py, ticket_get_for_actor): one statement for the
    # agent here, none for the customer who reported it.
    paths = {
        "tickets": (6, 5),
        f"tickets/{ticket.key}": (7, 4),
        f"tickets/{ticket.key}/transitions": (7, 4),
        f"tickets/{ticket.key}/comments": (7, 5),
        f"tickets/{ticket.key}/attachments": (7, 5),
        f"tickets/{ticket.key}/links": (8, 5),  # the links read once, not per direction
        f"tickets/{ticket.key}/participants": (7, 5),
        f"tickets/{ticket.key}/history": (7, 5),
        "desks": (4, 4),
        "users": (4, 4),
        "organisations": (4, 4),
    }
    clock.advance(minutes=1)
    small = {p: (count(agent, p), count(alice, p)) for p in paths}
    grow()
    services.ticket_link(actor=world.agent, ticket=ticket, other=other)
    clock.advance(minutes=1)
    large = {p: (count(agent, p), count(alice, p)) for p in paths}
    assert small == paths
    assert large == paths


def test_customers_get_allowlists_without_internal_canaries(world):
    """T7: internal notes, files of notes and staff-only fields never reach a customer."""
    from casedesk.desks.models import StaffMembership
    from casedesk.desks.services import desk_create
    from tests.tickets.test_reads import fields_workflow

    desk = desk_create(name="Fields", key_prefix="FLD", workflow=fields_workflow())
    desk.organisations.set([world.org_a])
    StaffMembership.objects.create(desk=desk, user=world.agent, role="agent")
    t = services.ticket_create(actor=world.alice, desk=desk, title="x")
    services.comment_add(actor=world.agent, ticket=t, body="CANARY-note", internal=True)
    services.attachment_add(
        actor=world.agent, ticket=t, uploads=[BytesUpload("CANARY-file.txt", b"x")], internal=True
    )
    services.ticket_transition(
        actor=world.agent,
        ticket=t,
        transition="resolve",
        comment="done",
        fields={"internal_ref": "CANARY-field"},
    )
    alice, agent = Api(world.alice), Api(world.agent)
    paths = ["", "/comments", "/attachments", "/history", "/transitions", "/links"]
    seen = "".join(alice.get(f"tickets/{t.key}{p}").content.decode() for p in paths)
    seen += alice.get("tickets").content.decode()
    seen += alice.get(f"desks/{desk.pk}/workflow").content.decode()
    assert "CANARY" not in seen and "internal_ref" not in seen
    staff = "".join(agent.get(f"tickets/{t.key}{p}").content.decode() for p in paths)
    assert {"CANARY-note", "CANARY-file", "CANARY-field"} <= {
        c for c in ("CANARY-note", "CANARY-file", "CANARY-field") if c in staff
    }


def test_indirect_references_to_foreign_tickets_read_like_missing_ones(world, ticket):
    """T6: linking to, or duplicating into, a ticket the caller cannot see says only
    'no such ticket', exactly as for a key that does not exist."""
    elsewhere = services.ticket_create(actor=world.alice, desk=world.other_desk, title="CANARY")
    agent = Api(world.agent)
    for path, field in (("links", "other"), ("duplicate", "original")):
        extra = {"version": version(ticket)} if path == "duplicate" else {}
        foreign = agent.post(f"tickets/{ticket.key}/{path}", {**extra, field: elsewhere.key})
        missing = agent.post(f"tickets/{ticket.key}/{path}", {**extra, field: "OTH-999"})
        assert foreign.status_code == missing.status_code == 422
        assert (
            foreign.json()
            == missing.json()
            == {**foreign.json(), "errors": {field: missing.json()["errors"][field]}}
        )
        assert "CANARY" not in foreign.content.decode()
