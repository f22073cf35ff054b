"""The desk's releases in the agent workspace: the version lines and their releases, and a
release's page (its fixes, the environments that run it, its deployments), for staff of
the desk only, in the reader's language, at a fixed number of statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.releases.services import fix_record

from .test_deployments import product, waiting  # noqa: F401 (a fixture)

BUDGET = {"releases": 5, "release": 9}  # session and user included


def count(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def test_staff_read_the_releases_and_what_each_carries_and_where_it_runs(
    client,
    world,
    product,  # noqa: F811
):
    desk = product.desk
    ours = waiting(world, desk, world.alice, "2.10", title="Rapporten er tom")
    fix_record(
        actor=world.agent,
        ticket=ours,
        release=product.releases["2.10"],
        notes={"en": "Reports are filled again."},
    )
    assert product.deploy(world.org_a, "PROD", "2.10", pipeline_id="build-1") == (0, 1)
    client.force_login(world.agent)

    listed, page = count(client, f"/agent/desks/{desk.pk}/releases/")
    assert listed <= BUDGET["releases"]
    assert page.index(">3.0<") < page.index(">2.10<") < page.index(">2.4<")  # newest first
    shown, page = count(client, f"/agent/desks/{desk.pk}/releases/2.10/")
    assert shown <= BUDGET["release"]
    assert ours.key in page and "Reports are filled again." in page
    assert "build-1" in page and "Org A" in page and "Org B" not in page

    # more tickets, fixes and deployments cost no more statements
    for i in range(5):
        waiting(world, desk, world.bob, "2.10", title=f"B {i}")
        product.deploy(world.org_b, "TEST", "2.10")
    assert count(client, f"/agent/desks/{desk.pk}/releases/")[0] == listed
    assert count(client, f"/agent/desks/{desk.pk}/releases/2.10/")[0] == shown

    world.agent.language = "da"
    world.agent.save()
    page = client.get(f"/agent/desks/{desk.pk}/releases/2.10/").content.decode()
    assert "Version 2.10" in page and "Udrulninger" in page and "Deployments" not in page


@pytest.mark.parametrize("who", ["outsider", "alice"])
def test_the_pages_are_not_there_for_staff_of_other_desks_or_customers(
    client,
    world,
    product,  # noqa: F811
    who,
):
    client.force_login(getattr(world, who))
    for url in (
        f"/agent/desks/{product.desk.pk}/releases/",
        f"/agent/desks/{product.desk.pk}/releases/2.10/",
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(world.agent)
    assert client.get(f"/agent/desks/{product.desk.pk}/releases/9.9/").status_code == 404


def test_an_agent_fixes_a_ticket_in_a_release_from_its_page(
    client,
    world,
    product,  # noqa: F811
):
    from casedesk.releases.models import TicketFix

    desk = product.desk
    t = waiting(world, desk, world.alice, "2.4", title="Eksporten fejler")
    client.force_login(world.agent)
    assert f"/agent/t/{t.key}/fix/" in client.get(f"/agent/t/{t.key}/").content.decode()
    page = client.get(f"/agent/t/{t.key}/fix/").content.decode()
    assert ">2.10<" in page and 'name="note:en"' in page
    later = product.releases["3.0"]
    # a release that was not offered is refused with its code, and nothing is recorded
    refused = client.post(f"/agent/t/{t.key}/fix/", {"release": "999999", "kind": "fix"})
    assert refused.status_code == 422
    assert not TicketFix.objects.filter(ticket=t, release=later).exists()
    done = client.post(
        f"/agent/t/{t.key}/fix/",
        {"release": later.pk, "kind": "change", "note:en": "Exports use the new format."},
    )
    assert done.status_code == 302 and done["Location"] == f"/agent/t/{t.key}/"
    fix = TicketFix.objects.get(ticket=t, release=later)
    assert (fix.kind, fix.notes, fix.withdrawn_at) == (
        "change",
        {"en": "Exports use the new format."},
        None,
    )
    # one active fix per line: 3.0 replaces 2.4, which is on the same line
    assert TicketFix.objects.get(ticket=t, release=product.releases["2.4"]).withdrawn_at
    # a customer, and staff of another desk, find nothing here
    for who in (world.alice, world.outsider):
        client.force_login(who)
        assert client.get(f"/agent/t/{t.key}/fix/").status_code == 404
        assert client.post(f"/agent/t/{t.key}/fix/", {"release": later.pk}).status_code == 404


def test_staff_choose_who_reads_the_note_and_the_release_page_says_it(
    client,
    world,
    product,  # noqa: F811
):
    from casedesk.releases.models import TicketFix

    desk = product.desk
    ours = waiting(world, desk, world.alice, "2.4", title="Eksporten fejler")
    theirs = waiting(world, desk, world.bob, "2.4", title="Rapporten er tom")
    release = product.releases["3.0"]
    client.force_login(world.agent)
    page = client.get(f"/agent/t/{ours.key}/fix/").content.decode()
    # the safe choice is the one already made: only the ticket's organisation
    assert 'name="audience" value="organisation" checked' in page
    assert 'name="audience" value="everyone">' in page and "Only Org A" in page
    for ticket, body in (
        (ours, {"note:en": "Org A's export of cost centre 4711 works again."}),
        (theirs, {"note:en": "Exports use the new format.", "audience": "everyone"}),
    ):
        done = client.post(
            f"/agent/t/{ticket.key}/fix/", {"release": release.pk, "kind": "fix", **body}
        )
        assert done.status_code == 302
    assert TicketFix.objects.get(ticket=ours, release=release).audience == "organisation"
    assert TicketFix.objects.get(ticket=theirs, release=release).audience == "everyone"
    refused = client.post(
        f"/agent/t/{ours.key}/fix/", {"release": release.pk, "kind": "fix", "audience": "all"}
    )
    assert refused.status_code == 422
    assert TicketFix.objects.get(ticket=ours, release=release).audience == "organisation"
    page = client.get(f"/agent/desks/{desk.pk}/releases/3.0/").content.decode()
    assert "Only Org A" in page and "Every customer" in page
    world.agent.language = "da"
    world.agent.save()
    page = client.get(f"/agent/t/{ours.key}/fix/").content.decode()
    assert "Kun Org A, sagens organisation" in page and "Alle deskens kunder" in page
