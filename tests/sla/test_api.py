"""Managing service levels and reading clocks through the API: refusals change nothing."""

import pytest

from casedesk.desks.models import StaffMembership
from casedesk.sla.models import BusinessCalendar, SlaPlan, SlaRevision
from casedesk.tickets import services
from tests.api.conftest import Api
from tests.conftest import make_staff


@pytest.fixture
def desk_admin(world):
    user = make_staff("deskadmin")
    StaffMembership.objects.create(desk=world.desk, user=user, role="admin")
    return Api(user)


def base(world) -> str:
    return f"desks/{world.desk.pk}/service-levels"


WEEK = {str(d): [{"start": "08:00", "end": "17:00"}] for d in range(5)}


def test_a_desk_admin_sets_the_calendar_plans_and_an_organisations_plan(world, desk_admin):
    r = desk_admin.put(f"{base(world)}/calendar", {"zone": "Europe/Oslo", "week": WEEK})
    assert r.status_code == 200, r.content
    assert r.json()["calendar"]["week"][0] == [[480, 1020]]
    plan = {"name": "Gold", "targets": {"urgent": {"first_response": 15, "resolution": 120}}}
    r = desk_admin.put(f"{base(world)}/plans/gold", {**plan, "desk_default": True})
    assert r.status_code == 200, r.content
    r = desk_admin.put(f"{base(world)}/organisations/{world.org_a.pk}", {"plan": "gold"})
    assert r.json()["organisations"] == {str(world.org_a.pk): "gold"}
    r = Api(world.agent).get(base(world))
    assert r.status_code == 200 and r.json()["plans"][0]["targets"]["urgent"]["resolution"] == 120


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("calendar", {"zone": "Mars/Olympus", "week": WEEK}, "zone"),
        (
            "calendar",
            {"zone": "UTC", "week": {"0": [{"start": "12:00", "end": "09:00"}]}},
            "week",
        ),
        (
            "calendar",
            {
                "zone": "UTC",
                "week": {
                    "0": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
                },
            },
            "week",
        ),
        ("plans/zero", {"name": "Z", "targets": {"urgent": {"resolution": 0}}}, None),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(
    world, desk_admin, path, body, field
):
    desk_admin.put(f"{base(world)}/calendar", {"zone": "UTC", "always": True})
    before = (
        SlaRevision.objects.count(),
        list(BusinessCalendar.objects.values()),
        SlaPlan.objects.count(),
    )
    r = desk_admin.put(f"{base(world)}/{path}", body)
    assert r.status_code in (400, 422), r.content
    if field:
        assert field in r.json()["errors"], r.json()
    after = (
        SlaRevision.objects.count(),
        list(BusinessCalendar.objects.values()),
        SlaPlan.objects.count(),
    )
    assert after == before


def test_a_plan_without_a_calendar_is_refused(world, desk_admin):
    r = desk_admin.put(f"{base(world)}/plans/p", {"name": "P", "targets": {}})
    assert r.status_code == 422 and "calendar" in r.json()["errors"]
    assert not SlaPlan.objects.exists()


@pytest.mark.parametrize("who", ["agent", "lead", "alice", "ada"])
def test_below_desk_admin_nobody_changes_service_levels(world, who):
    r = Api(getattr(world, who)).put(f"{base(world)}/calendar", {"zone": "UTC", "always": True})
    assert r.status_code in (403, 404)
    assert not BusinessCalendar.objects.exists()


def test_customers_read_their_ticket_s_clocks_not_the_desk_s_setup(world, desk_admin, clock):
    desk_admin.put(f"{base(world)}/calendar", {"zone": "UTC", "always": True})
    desk_admin.put(
        f"{base(world)}/plans/std",
        {"name": "Std", "targets": {"normal": {"resolution": 60}}, "desk_default": True},
    )
    ticket = services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    clock.advance(minutes=20)
    r = Api(world.alice).get(f"tickets/{ticket.key}/clocks")
    assert r.status_code == 200
    [res] = r.json()
    assert res["target"] == "resolution" and res["state"] == "running"
    assert res["used_seconds"] == 1200 and res["remaining_seconds"] == 2400
    assert Api(world.bob).get(f"tickets/{ticket.key}/clocks").status_code == 404
    assert Api(world.alice).get(base(world)).status_code == 404
