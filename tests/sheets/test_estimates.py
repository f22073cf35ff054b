"""The hour estimate beside a ticket (seed 002): who may set, see and grant it, the
history, webhooks and mail it makes, the pages and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.mail.models import OutboundMail
from casedesk.sheets import estimates
from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import Estimate, WorkKind
from casedesk.tickets import services
from casedesk.tickets.models import TicketEvent
from casedesk.tickets.outbox import deliver_all
from casedesk.webhooks.models import WebhookDelivery
from casedesk.webhooks.services import subscription_create
from tests.api.conftest import Api
from tests.conftest import make_customer, make_desk
from tests.helpers import fresh

from .conftest import started, submit


@pytest.fixture
def tv(world):
    return make_desk("twovalue", "TV", [world.org_a, world.org_b], {world.agent: "agent"})


@pytest.fixture
def case(world, tv):
    return services.ticket_create(actor=world.alice, desk=tv, title="Export stops")


def test_who_may_set_and_grant(world, tv, case):
    # customers never set the estimate, whatever their role
    for person in (world.alice, world.anna):
        with pytest.raises(Forbidden):
            estimates.estimate_set(actor=person, ticket=case, hours="3")
    assert not Estimate.objects.exists()
    # another organisation's customer never sees the ticket, so not its estimate either
    estimates.estimate_set(actor=world.agent, ticket=case, hours="3")
    with pytest.raises(NotFound):
        estimates.estimate_for(user=world.bob, ticket=case)
    with pytest.raises(NotFound):
        estimates.estimate_grant(actor=world.bob, ticket=case)
    # an approver of another organisation is as much a stranger
    stranger = make_customer("bart", world.org_b, "approver")
    with pytest.raises(NotFound):
        estimates.estimate_grant(actor=stranger, ticket=case)
    # a member may not grant, and staff do not grant for the customer
    for person in (world.alice, world.agent):
        with pytest.raises(Forbidden):
            estimates.estimate_grant(actor=person, ticket=case)
    row = Estimate.objects.get(ticket=case)
    assert (row.granted_at, row.granted_hours) == (None, None)
    assert not TicketEvent.objects.filter(ticket=case, kind="estimate_granted").exists()
    estimates.estimate_grant(actor=world.anna, ticket=case, hours="3.00")
    assert Estimate.objects.get(ticket=case).granted_by == world.anna


def test_bad_hours_and_stale_grants_are_refused_with_codes(world, case):
    for bad in ("", "0", "-1", "1.234", "abc", "100000", "NaN", "Infinity"):
        with pytest.raises(InvalidInput) as caught:
            estimates.estimate_set(actor=world.agent, ticket=case, hours=bad)
        assert caught.value.errors["hours"].code == "estimate.hours"
    with pytest.raises(InvalidInput) as caught:
        estimates.estimate_grant(actor=world.anna, ticket=case)
    assert caught.value.errors["hours"].code == "estimate.nothing_to_grant"
    estimates.estimate_set(actor=world.agent, ticket=case, hours="4")
    with pytest.raises(InvalidInput) as caught:
        estimates.estimate_set(actor=world.agent, ticket=case, hours="4.00")
    assert caught.value.errors["hours"].code == "estimate.unchanged"
    # the approver was shown 3 hours, but it is 4 now: nothing is granted
    with pytest.raises(InvalidInput) as caught:
        estimates.estimate_grant(actor=world.anna, ticket=case, hours="3")
    assert caught.value.errors["hours"].as_dict() == {
        "code": "estimate.changed",
        "params": {"hours": "4.00"},
    }
    assert Estimate.objects.get(ticket=case).granted_at is None
    estimates.estimate_grant(actor=world.anna, ticket=case, hours="4")
    with pytest.raises(InvalidInput) as caught:  # granted already: nothing waits
        estimates.estimate_grant(actor=world.anna, ticket=case)
    assert caught.value.errors["hours"].code == "estimate.nothing_to_grant"


def test_raising_withdraws_lowering_keeps(world, case):
    estimates.estimate_set(actor=world.agent, ticket=case, hours="5")
    estimates.estimate_grant(actor=world.anna, ticket=case)
    estimates.estimate_set(actor=world.agent, ticket=case, hours="4")
    assert not Estimate.objects.get(ticket=case).awaiting
    # back up to 5 is still covered by the 5 granted; 5.5 is not
    estimates.estimate_set(actor=world.agent, ticket=case, hours="5")
    assert not Estimate.objects.get(ticket=case).awaiting
    estimates.estimate_set(actor=world.agent, ticket=case, hours="5.5")
    assert Estimate.objects.get(ticket=case).awaiting
    sets = [e.data for e in TicketEvent.objects.filter(ticket=case, kind="estimate_set")]
    assert [(d["hours"], d["withdrawn"], d["awaiting"]) for d in sets] == [
        ([None, "5.00"], False, True),
        (["5.00", "4.00"], False, False),
        (["4.00", "5.00"], False, False),
        (["5.00", "5.50"], True, True),
    ]


def test_webhooks_for_estimates(world, tv, case, app_consumers):
    admin = world.admin
    subscription_create(actor=admin, desk=tv, url="https://example.org/in", events=[])
    estimates.estimate_set(actor=world.agent, ticket=case, hours="2")
    estimates.estimate_grant(actor=world.anna, ticket=case)
    estimates.estimate_set(actor=world.agent, ticket=case, hours="3")
    deliver_all()  # prepares deliveries; nothing is sent to example.org here
    rows = WebhookDelivery.objects.filter(event__kind__startswith="estimate").order_by("id")
    assert [d.event_type for d in rows] == [
        "estimate.set",
        "estimate.granted",
        "estimate.set",
        "estimate.withdrawn",
    ]
    set_, granted, raised, withdrawn = (d.payload for d in rows)
    assert set_["change"] == {
        "estimate": {
            "hours": {"from": None, "to": "2.00"},
            "granted_hours": None,
            "withdrawn": False,
            "awaiting_grant": True,
        }
    }
    assert granted["change"] == {"estimate": {"granted_hours": "2.00", "before": None}}
    assert (granted["actor"]["kind"], granted["actor"]["id"]) == ("customer", world.anna.pk)
    assert granted["ticket"]["key"] == case.key
    assert raised["change"]["estimate"]["withdrawn"] is True
    assert withdrawn["change"] == raised["change"]


def test_approvers_are_mailed_in_their_language(world, case, app_consumers):
    world.anna.language = "nl"
    world.anna.save()
    org_admin = world.ada
    org_admin.language = "cs"
    org_admin.save()
    estimates.estimate_set(actor=world.agent, ticket=case, hours="6.5")
    deliver_all()
    mails = {m.recipient: m for m in OutboundMail.objects.filter(kind="approve_estimate")}
    assert set(mails) == {world.anna, org_admin}  # not Alice, a member; not Bob, a stranger
    assert mails[world.anna].language == "nl"
    assert "6.50 uur en wacht op uw akkoord" in mails[world.anna].body_text
    assert "6.50 hodin a čeká na vaše schválení" in mails[org_admin].body_text
    # a lower estimate that the grant still covers asks nobody
    estimates.estimate_grant(actor=world.anna, ticket=case)
    estimates.estimate_set(actor=world.agent, ticket=case, hours="5")
    deliver_all()
    assert OutboundMail.objects.filter(kind="approve_estimate").count() == 2


def test_thresholds_are_said_once(world, case):
    kind = WorkKind.objects.create(desk=case.desk, slug="work", labels={"en": "Work"})
    services.ticket_transition(
        actor=world.agent, ticket=case, transition="start", assignee=world.agent
    )
    estimates.estimate_set(actor=world.agent, ticket=case, hours="1")

    def log(minutes):
        sheet_services.work_log(
            actor=world.agent, ticket=case, minutes=minutes, description="x", kind=kind.slug
        )

    def said():
        return [
            e.kind
            for e in TicketEvent.objects.filter(ticket=case, kind__startswith="estimate_")
            if e.kind != "estimate_set"
        ]

    log(47)
    assert said() == []
    log(1)  # 48 of 60 minutes: 80 %
    assert said() == ["estimate_warning"]
    log(5)
    assert said() == ["estimate_warning"]
    log(7)  # 60 minutes: 100 %
    assert said() == ["estimate_warning", "estimate_reached"]
    log(30)
    assert said() == ["estimate_warning", "estimate_reached"]


def test_a_submitted_sheet_mails_the_approvers_and_makes_webhooks(world, sl, app_consumers):
    subscription_create(actor=world.admin, desk=sl.desk, url="https://example.org/in", events=[])
    world.anna.language = "sv"
    world.anna.save()
    ticket = started(world, sl)
    sheet_services.work_log(
        actor=world.agent, ticket=ticket, minutes=30, description="Práce.", kind="consulting"
    )
    ticket = submit(world, ticket)
    services.ticket_transition(
        actor=world.alice, ticket=ticket, transition="customer_rejects", comment="Chybí popis."
    )
    deliver_all()
    assert {m.recipient for m in OutboundMail.objects.filter(kind="approve_sheet")} == {
        world.anna,
        world.ada,
    }
    mail = OutboundMail.objects.get(kind="approve_sheet", recipient=world.anna)
    assert mail.language == "sv"
    assert "väntar på ditt godkännande" in mail.body_text
    types = list(
        WebhookDelivery.objects.filter(event_type__startswith="sheet.")
        .order_by("id")
        .values_list("event_type", flat=True)
    )
    assert types == ["sheet.submitted", "sheet.returned"]
    submitted = WebhookDelivery.objects.get(event_type="sheet.submitted").payload
    assert submitted["change"]["sheet"]["state"] == "submitted"
    assert submitted["change"]["sheet"]["cycle"] == 1


def test_the_pages_show_the_estimate_and_the_approvers_action(client, world, case):
    estimates.estimate_set(actor=world.agent, ticket=case, hours="2")
    client.force_login(world.alice)
    page = client.get(f"/portal/t/{case.key}/").content.decode()
    assert 'id="estimate"' in page and "estimate-grant-form" not in page
    client.force_login(world.anna)
    page = client.get(f"/portal/t/{case.key}/").content.decode()
    assert "estimate-grant-form" in page
    done = client.post(f"/portal/t/{case.key}/estimate/grant/", {"hours": "2.00"})
    assert done.status_code == 302
    assert Estimate.objects.get(ticket=case).granted_by == world.anna
    # a member posting the form anyway is refused, and nothing changes
    estimates.estimate_set(actor=world.agent, ticket=case, hours="3")
    client.force_login(world.alice)
    refused = client.post(f"/portal/t/{case.key}/estimate/grant/", {"hours": "3.00"})
    assert refused.status_code == 403
    assert Estimate.objects.get(ticket=case).granted_hours == Decimal("2.00")
    # a stranger gets no page at all
    client.force_login(world.bob)
    assert client.post(f"/portal/t/{case.key}/estimate/grant/", {}).status_code == 404
    # staff set it from their page; a bad number is said next to the field
    client.force_login(world.agent)
    bad = client.post(f"/agent/t/{case.key}/estimate/", {"hours": "lots"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.content.decode()
    assert client.post(f"/agent/t/{case.key}/estimate/", {"hours": "4"}).status_code == 302
    assert Estimate.objects.get(ticket=case).hours == Decimal("4.00")


def test_the_api(world, case):
    staff, approver, member, stranger = (
        Api(world.agent),
        Api(world.anna),
        Api(world.alice),
        Api(world.bob),
    )
    path = f"tickets/{case.key}/estimate"
    assert member.get(path).json()["hours"] is None
    made = staff.put(path, {"hours": "2.5"})
    assert made.status_code == 200, made.content
    assert (made.json()["hours"], made.json()["awaiting_grant"]) == ("2.50", True)
    refused = member.put(path, {"hours": "1"})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission.denied")
    refused = member.post(f"{path}/grant", {})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission.denied")
    assert stranger.get(path).status_code == 404
    assert stranger.post(f"{path}/grant", {}).status_code == 404
    bad = staff.put(path, {"hours": "two"})
    assert bad.status_code == 422
    assert bad.json()["errors"]["hours"]["code"] == "estimate.hours"
    stale = approver.post(f"{path}/grant", {"hours": "2"})
    assert stale.json()["errors"]["hours"]["code"] == "estimate.changed"
    assert approver.get(path).json()["can_grant"] is True
    granted = approver.post(f"{path}/grant", {"hours": "2.50"})
    assert granted.status_code == 200, granted.content
    body = granted.json()
    assert (body["granted_hours"], body["awaiting_grant"], body["granted_by"]["id"]) == (
        "2.50",
        False,
        world.anna.pk,
    )
    assert fresh(case).version > case.version
