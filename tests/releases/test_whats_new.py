"""What's new as each customer sees it: the release's notes per language, grouped, their
own cases in it and when it reached their TEST and PROD; the ticket page links to it
while the case waits; the overview of what is not yet installed, and asking for an
update. Nothing of another organisation's cases, environments or deployments shows, nor
a note staff left for that organisation only."""

from __future__ import annotations

from casedesk.releases.services import environment_declare, fix_record
from casedesk.tickets import services
from casedesk.tickets.models import Ticket
from tests.conftest import make_desk
from tests.helpers import fresh

from .pipeline import Pipeline


def setup(world):
    desk = make_desk(
        "tms", "TMS", [world.org_a, world.org_b], {world.agent: "agent", world.lead: "lead"}
    )
    pipeline = Pipeline(
        lead=world.lead,
        desk=desk,
        versions={"3": ["3.1.2", "3.2"]},
        orgs=[world.org_a, world.org_b],
    )
    environment_declare(
        actor=world.lead, organisation=world.org_b, desk=desk, name="CANARY-B-STAGE", tier="TEST"
    )

    def case(user, title, note, kind="fix", audience="organisation"):
        t = services.ticket_create(actor=user, desk=desk, title=title)
        services.ticket_transition(
            actor=world.agent, ticket=t, transition="receive", assignee=world.agent
        )
        fix_record(
            actor=world.agent,
            ticket=fresh(t),
            release=pipeline.releases["3.1.2"],
            kind=kind,
            notes=note,
            audience=audience,
        )
        services.ticket_transition(actor=world.agent, ticket=fresh(t), transition="await_update")
        return fresh(t)

    ours = case(
        world.alice,
        "Lønkørslen stopper",
        {
            "en": "Payroll runs no longer stop at department 12.",
            "da": "Lønkørslen stopper ikke længere ved afdeling 12.",
        },
    )
    theirs = case(
        world.bob,
        "CANARY-title-B",
        {"en": "Exports name the period in the file name."},
        kind="change",
        audience="everyone",  # the release note: nothing of B's own in it
    )
    return desk, pipeline, ours, theirs


def test_whats_new_as_each_customer_sees_it(client, world, clock):
    desk, pipeline, ours, theirs = setup(world)
    assert ours.fields["fix_version"] == "3.1.2"  # the fix named the release on the ticket
    assert pipeline.deploy(world.org_a, "TEST", "3.1.2") == (0, 1)
    assert pipeline.deploy(world.org_b, "PROD", "3.2") == (0, 1)
    url = f"/portal/updates/{desk.pk}/3.1.2/"

    client.force_login(world.alice)
    page = client.get(url + "?lang=en").content.decode()
    assert "Payroll runs no longer stop at department 12." in page  # fixes
    # changes: B's note was written for every customer, so A reads it too
    assert "Exports name the period in the file name." in page
    assert page.index("Payroll") < page.index("Exports")
    assert ours.key in page and theirs.key not in page and "CANARY" not in page
    assert "TEST: since" in page and "PROD: not yet" in page
    danish = client.get(url + "?lang=da").content.decode()
    assert "Lønkørslen stopper ikke længere ved afdeling 12." in danish
    assert "Payroll" not in danish

    client.force_login(world.bob)
    page = client.get(url + "?lang=en").content.decode()
    assert theirs.key in page and ours.key not in page
    assert "CANARY-B-STAGE: not yet" in page and "PROD: since" in page  # 3.2 carries 3.1.2
    assert "Exports name the period in the file name." in page
    # A's note is A's own (the default audience): B reads none of it, in any language
    assert "Lønkørslen" not in page and "Payroll" not in page and "department 12" not in page
    assert "Lønkørslen" not in client.get(url + "?lang=da").content.decode()


def test_the_ticket_page_links_to_whats_new_while_the_case_waits(client, world):
    desk, _, ours, _ = setup(world)
    client.force_login(world.alice)
    link = f'href="/portal/updates/{desk.pk}/3.1.2/"'
    assert link in client.get(f"/portal/t/{ours.key}/").content.decode()
    services.ticket_transition(
        actor=world.agent, ticket=ours, transition="close", comment="Aftalt med kunden."
    )
    assert link not in client.get(f"/portal/t/{ours.key}/").content.decode()


def test_the_overview_and_asking_for_an_update(client, world):
    desk, pipeline, ours, theirs = setup(world)
    pipeline.deploy(world.org_a, "TEST", "3.1.2")
    client.force_login(world.alice)
    page = client.get(f"/portal/updates/{desk.pk}/").content.decode()
    assert ours.key in page and theirs.key not in page and "CANARY" not in page
    before = Ticket.objects.count()
    answer = client.post(f"/portal/updates/{desk.pk}/ask/")
    asked = Ticket.objects.order_by("-pk").first()
    assert Ticket.objects.count() == before + 1
    assert answer.status_code == 302 and answer["Location"] == f"/portal/t/{asked.key}/"
    assert (asked.reporter, asked.organisation) == (world.alice, world.org_a)
    assert ours.key in asked.description and theirs.key not in asked.description


def test_whats_new_is_refused_to_whom_it_is_not_for(client, world):
    desk, *_ = setup(world)
    for user, url in (
        (world.agent, f"/portal/updates/{desk.pk}/3.1.2/"),  # the customer side only
        (world.alice, f"/portal/updates/{desk.pk}/9.9/"),  # no such release
        (world.alice, f"/portal/updates/{world.other_desk.pk + 1000}/3.1.2/"),
        (world.bob, f"/portal/updates/{world.other_desk.pk}/"),  # B does not use it
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404, url
    client.logout()
    assert client.get(f"/portal/updates/{desk.pk}/3.1.2/").status_code == 302
