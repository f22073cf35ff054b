"""Releases, fixes, what's new and verdicts through the API: staff declare and fix,
customers read what concerns their own organisation, and each refusal has its code."""

from __future__ import annotations

import json

import pytest

from casedesk.releases.models import Release, TicketFix
from casedesk.releases.services import release_publish
from casedesk.tickets import services
from tests.conftest import make_desk
from tests.helpers import fresh
from tests.releases.pipeline import Pipeline

from .conftest import Api

UB = "under_behandling"


def test_staff_declare_releases_and_fix_tickets_customers_read_theirs(world, clock):
    desk = make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    pipeline = Pipeline(lead=world.lead, desk=desk, versions={"3": ["3.1"]}, orgs=[world.org_a])
    lead, agent, alice, bob = (Api(u) for u in (world.lead, world.agent, world.alice, world.bob))

    made = lead.post(f"desks/{desk.pk}/releases", {"line": "3", "version": "3.2"})
    assert made.status_code == 201, made.content
    assert made.json() == {"version": "3.2", "line": "3", "position": 20, "published_on": None}
    again = lead.post(f"desks/{desk.pk}/releases", {"line": "3", "version": "3.2"})
    assert again.status_code == 422 and "version" in again.json()["errors"]
    refused = agent.post(f"desks/{desk.pk}/releases", {"line": "4", "version": "4.0"})
    assert refused.status_code == 403
    assert not Release.objects.filter(version="4.0").exists()
    assert [r["version"] for r in lead.get(f"desks/{desk.pk}/releases").json()] == ["3.1", "3.2"]
    # nothing is published or installed at the customer yet: they see no release
    assert alice.get(f"desks/{desk.pk}/releases").json() == []

    case = services.ticket_create(actor=world.alice, desk=desk, title="Lønkørslen stopper")
    services.ticket_transition(
        actor=world.agent, ticket=case, transition="receive", assignee=world.agent
    )
    fixed = agent.post(
        f"tickets/{case.key}/fixes",
        {"version": "3.2", "notes": {"da": "Lønkørslen stopper ikke længere."}},
    )
    assert fixed.status_code == 201, fixed.content
    assert fixed.json()["notes"] == {"da": "Lønkørslen stopper ikke længere."}
    assert fresh(case).fields["fix_version"] == "3.2"
    bad = agent.post(f"tickets/{case.key}/fixes", {"version": "3.2", "notes": {"xx": "?"}})
    assert bad.status_code == 422 and "notes.xx" in bad.json()["errors"]
    missing = agent.post(f"tickets/{case.key}/fixes", {"version": "9.9"})
    assert (missing.status_code, missing.json()["code"]) == (404, "ticket.release.not_found")
    # a customer may not fix; a release not yet theirs to read is not there for them
    assert alice.post(f"tickets/{case.key}/fixes", {"version": "3.2"}).status_code == 404
    assert TicketFix.objects.filter(ticket=case).count() == 1

    # the customer reads what's new once the release reached their environment
    assert alice.get(f"desks/{desk.pk}/releases/3.2/whats-new?lang=da").status_code == 404
    services.ticket_transition(actor=world.agent, ticket=case, transition="await_update")
    assert pipeline.deploy(world.org_a, "TEST", "3.2") == (0, 1)
    assert (fresh(case).status, fresh(case).sub_status) == (UB, "opdateret_i_test_afventer_accept")
    news = alice.get(f"desks/{desk.pk}/releases/3.2/whats-new?lang=da").json()
    assert news["fixes"] == ["Lønkørslen stopper ikke længere."]
    assert news["cases"] == [case.key]
    assert [(r["environment"], r["at"] is not None) for r in news["reached"]] == [
        ("TEST", True),
        ("PROD", False),
    ]
    # another organisation's customer learns nothing of it: not deployed there, not out
    assert bob.get(f"desks/{desk.pk}/releases/3.2/whats-new?lang=da").status_code == 404
    assert bob.get(f"desks/{desk.pk}/releases").json() == []

    # the verdict is the workflow's own move; its record is read here
    services.ticket_transition(
        actor=world.alice, ticket=case, transition="reject_in_test", comment="Stopper stadig."
    )
    (verdict,) = alice.get(f"tickets/{case.key}/acceptances").json()
    assert (verdict["tier"], verdict["verdict"], verdict["reason"]) == (
        "TEST",
        "rejected",
        "Stopper stadig.",
    )
    assert (verdict["environment"], verdict["release"], verdict["round"]) == ("TEST", "3.2", 1)
    assert bob.get(f"tickets/{case.key}/acceptances").status_code == 404


def test_a_fix_recorded_by_mistake_is_withdrawn(world, clock):
    desk = make_desk("tms", "TMS", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    made = Pipeline(lead=world.lead, desk=desk, versions={"3": ["3.1"], "4": ["4.0"]}, orgs=[])
    release_publish(actor=world.lead, release=made.releases["3.1"])  # out: customers read it
    agent = Api(world.agent)
    case = services.ticket_create(actor=world.alice, desk=desk, title="x")
    assert agent.post(f"tickets/{case.key}/fixes", {"version": "3.1"}).status_code == 201
    assert agent.post(f"tickets/{case.key}/fixes", {"version": "4.0"}).status_code == 201
    assert Api(world.alice).delete(f"tickets/{case.key}/fixes/3.1").status_code == 403
    assert agent.delete(f"tickets/{case.key}/fixes/3.1").status_code == 204
    # the backport on line 4 stays, and the field now names it
    assert fresh(case).fields["fix_version"] == "4.0"
    assert [
        (f["release"]["version"], f["active"])
        for f in agent.get(f"tickets/{case.key}/fixes").json()
    ] == [("3.1", False), ("4.0", True)]
    again = agent.delete(f"tickets/{case.key}/fixes/3.1")
    assert (again.status_code, again.json()["code"]) == (404, "ticket.fix.not_found")


def test_customers_never_record_fixes_and_learn_nothing_of_a_release_not_theirs(world, clock):
    """No customer role records or withdraws a fix. On a release they may read (published)
    the answer is 403; on one they may not (planned) it is the very 404 of a version that
    does not exist, so the refusal tells nobody the planned release is there."""
    desk = make_desk("tms", "TMS", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    made = Pipeline(lead=world.lead, desk=desk, versions={"3": ["3.1", "3.2"]}, orgs=[])
    release_publish(actor=world.lead, release=made.releases["3.1"])  # out; 3.2 is planned
    case = services.ticket_create(actor=world.alice, desk=desk, title="Lønkørslen stopper")
    assert Api(world.agent).post(f"tickets/{case.key}/fixes", {"version": "3.1"}).status_code == 201
    before = list(TicketFix.objects.values_list("pk", "release_id", "withdrawn_at", "notes"))
    for user in (world.alice, world.ada):
        customer = Api(user)
        for body in (
            {"version": "3.1"},
            {"version": "3.1", "notes": {"da": "x"}, "audience": "everyone"},
        ):
            refused = customer.post(f"tickets/{case.key}/fixes", body)
            assert (refused.status_code, refused.json()["code"]) == (403, "permission.denied")
        assert customer.delete(f"tickets/{case.key}/fixes/3.1").status_code == 403
        for method, url, body in (
            ("POST", f"tickets/{case.key}/fixes", {"audience": "everyone"}),
            ("DELETE", f"tickets/{case.key}/fixes/{{v}}", None),
        ):
            answers = []
            for version in ("3.2", "9.9"):
                sent = None if body is None else {**body, "version": version}
                answer = customer.call(method, url.replace("{v}", version), sent)
                answers.append((answer.status_code, answer.json()))
            planned, missing = answers
            assert planned[0] == 404 and planned == missing, (method, planned, missing)
            assert "3.2" not in json.dumps(planned[1])
    assert list(TicketFix.objects.values_list("pk", "release_id", "withdrawn_at", "notes")) == (
        before
    )


def test_the_note_audience_is_the_organisation_unless_staff_choose_everyone(world, clock):
    desk = make_desk("tms", "TMS", [world.org_a], {world.agent: "agent", world.lead: "lead"})
    Pipeline(lead=world.lead, desk=desk, versions={"3": ["3.1"], "4": ["4.0"]}, orgs=[])
    agent = Api(world.agent)
    case = services.ticket_create(actor=world.alice, desk=desk, title="x")
    url = f"tickets/{case.key}/fixes"
    made = agent.post(url, {"version": "3.1", "notes": {"da": "Kun for A."}})
    assert (made.status_code, made.json()["audience"]) == (201, "organisation")
    shared = agent.post(
        url, {"version": "4.0", "notes": {"da": "For alle."}, "audience": "everyone"}
    )
    assert (shared.status_code, shared.json()["audience"]) == (201, "everyone")
    bad = agent.post(url, {"version": "4.0", "audience": "the-world"})
    assert bad.status_code == 422
    assert sorted(TicketFix.objects.values_list("release__version", "audience")) == [
        ("3.1", "organisation"),
        ("4.0", "everyone"),
    ]
    # the service refuses an audience it does not know, with its code
    from casedesk.common.errors import InvalidInput
    from casedesk.releases.services import fix_record

    with pytest.raises(InvalidInput) as refused:
        fix_record(
            actor=world.agent,
            ticket=fresh(case),
            release=Release.objects.get(desk=desk, version="3.1"),
            audience="the-world",
        )
    assert refused.value.errors["audience"].code == "release.fix.audience"
