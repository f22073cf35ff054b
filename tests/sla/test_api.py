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


def _state():
    from casedesk.sla.models import CalendarDay, OrganisationPlan, SlaTarget

    return (
        list(BusinessCalendar.objects.values()),
        list(CalendarDay.objects.values()),
        list(SlaPlan.objects.values()),
        list(SlaTarget.objects.values()),
        list(OrganisationPlan.objects.values()),
        SlaRevision.objects.count(),
    )


def _set_up(world, desk_admin):
    desk_admin.put(f"{base(world)}/calendar", {"zone": "Europe/Copenhagen", "week": WEEK})
    plan = {"name": "Gold", "targets": {"urgent": {"resolution": 120}}, "desk_default": True}
    desk_admin.put(f"{base(world)}/plans/gold", plan)
    desk_admin.put(f"{base(world)}/plans/silver", {"name": "Silver", "targets": {}})
    desk_admin.put(f"{base(world)}/organisations/{world.org_a.pk}", {"plan": "silver"})


@pytest.mark.parametrize(
    "method, path, body, field, code",
    [
        (
            "put",
            "calendar",
            {"zone": "Mars/Olympus", "week": WEEK},
            "zone",
            "calendar.zone_unknown",
        ),
        (
            "put",
            "calendar",
            {"zone": "UTC", "week": {"2": [{"start": "17:00", "end": "08:00"}]}},
            "week",
            "calendar.interval_reversed",
        ),
        (
            "put",
            "calendar",
            {
                "zone": "UTC",
                "week": {
                    "0": [{"start": "08:00", "end": "12:00"}, {"start": "11:59", "end": "13:00"}]
                },
            },
            "week",
            "calendar.intervals_overlap",
        ),
        (
            "put",
            "calendar",
            {"zone": "UTC", "week": {"0": [{"start": "25:00", "end": "26:00"}]}},
            "week",
            "calendar.time_invalid",
        ),
        ("put", "calendar", {"zone": "UTC", "week": {}}, "week", "calendar.never_open"),
        (
            "put",
            "calendar",
            {"zone": "UTC", "always": True, "holiday_country": "XX"},
            "holiday_country",
            "calendar.holiday_country_unknown",
        ),
        (
            "put",
            "calendar",
            {"zone": "UTC", "always": True, "holiday_country": "DK", "holiday_subdivision": "ZZ"},
            "holiday_subdivision",
            "calendar.holiday_subdivision_unknown",
        ),
        (
            "put",
            "plans/gold",
            {"name": "Gold", "targets": {"urgent": {"resolution": 0}}},
            "targets.urgent.resolution",
            "plan.target_not_positive",
        ),
        (
            "put",
            "plans/gold",
            {"name": "Gold", "targets": {"urgent": {"first_response": -1}}},
            "targets.urgent.first_response",
            "plan.target_not_positive",
        ),
        (
            "put",
            "plans/gold",
            {"name": "Gold", "targets": {"sometime": {"resolution": 10}}},
            "targets.sometime",
            "ticket.priority.unknown",
        ),
        ("put", "plans/new", {"name": " ", "targets": {}}, "name", "input.required"),
        ("delete", "plans/silver", None, "plan", "plan.in_use"),
        ("delete", "plans/bronze", None, "plan", "plan.not_found"),
        ("delete", "calendar", None, "calendar", "calendar.in_use"),
        (
            "put",
            "calendar/days/2026-12-24",
            {"kind": "short", "hours": []},
            "hours",
            "calendar.short_day_hours",
        ),
        (
            "put",
            "calendar/days/2026-12-24",
            {"kind": "closure", "hours": [{"start": "08:00", "end": "12:00"}]},
            "hours",
            "calendar.closed_day_hours",
        ),
        ("put", "organisations/{org}", {"plan": "bronze"}, "plan", "plan.not_found"),
    ],
)
def test_each_refusal_has_its_code_and_changes_nothing(
    world, desk_admin, method, path, body, field, code
):
    _set_up(world, desk_admin)
    before = _state()
    address = f"{base(world)}/{path.format(org=world.org_b.pk)}"
    r = getattr(desk_admin, method)(address, body) if body else getattr(desk_admin, method)(address)
    assert r.status_code == 422, r.content
    assert r.json()["errors"][field]["code"] == code, r.json()
    assert _state() == before


def test_days_plans_and_the_calendar_are_removed_through_the_api(world, desk_admin):
    _set_up(world, desk_admin)
    r = desk_admin.put(
        f"{base(world)}/calendar/days/2026-12-24",
        {"kind": "short", "name": "Juleaften", "hours": [{"start": "08:00", "end": "12:00"}]},
    )
    assert r.status_code == 200, r.content
    assert r.json()["calendar"]["days"] == [
        {
            "day": "2026-12-24",
            "kind": "short",
            "name": "Juleaften",
            "hours": [[480, 720]],
            "source_version": "",
        }
    ]
    assert (
        desk_admin.delete(f"{base(world)}/calendar/days/2026-12-24").json()["calendar"]["days"]
        == []
    )
    desk_admin.put(f"{base(world)}/organisations/{world.org_a.pk}", {"plan": None})
    r = desk_admin.delete(f"{base(world)}/plans/silver")
    assert r.status_code == 200 and [p["slug"] for p in r.json()["plans"]] == ["gold"]
    assert desk_admin.delete(f"{base(world)}/plans/gold").status_code == 200
    r = desk_admin.delete(f"{base(world)}/calendar")
    assert r.status_code == 200 and r.json()["calendar"] is None


@pytest.mark.parametrize("who", ["alice", "ada", "agent", "lead", "outsider"])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("put", "calendar", {"zone": "UTC", "always": True}),
        ("delete", "calendar", None),
        ("put", "calendar/days/2026-12-24", {"kind": "closure"}),
        ("delete", "calendar/days/2026-12-24", None),
        ("put", "plans/evil", {"name": "Evil", "targets": {}}),
        ("delete", "plans/gold", None),
        ("put", "organisations/{org}", {"plan": None}),
        ("post", "holidays", {"first_year": 2026, "last_year": 2026}),
    ],
)
def test_customers_org_admins_agents_and_other_desks_staff_change_nothing(
    world, desk_admin, who, method, path, body
):
    """A customer, their organisation's admin, the desk's own agents and leads and an agent
    of another desk: refused (404 for those who do not see the desk), nothing written."""
    _set_up(world, desk_admin)
    desk_admin.put(f"{base(world)}/calendar/days/2026-12-24", {"kind": "closure"})
    before = _state()
    caller = Api(getattr(world, who))
    address = f"{base(world)}/{path.format(org=world.org_a.pk)}"
    r = getattr(caller, method)(address, body) if body else getattr(caller, method)(address)
    assert r.status_code in (403, 404), (who, r.content)
    assert _state() == before


def test_an_admin_of_another_desk_cannot_reach_this_one(world):
    other_admin = make_staff("otheradmin")
    StaffMembership.objects.create(desk=world.other_desk, user=other_admin, role="admin")
    r = Api(other_admin).put(f"{base(world)}/calendar", {"zone": "UTC", "always": True})
    assert r.status_code == 404
    assert not BusinessCalendar.objects.exists()
