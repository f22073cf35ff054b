"""The service levels in the admin: changed through the services, refusals said on the form
in the editor's language, and a refusal changes nothing."""

import re

import pytest
from django.contrib.auth.models import Permission

from casedesk.desks.models import StaffMembership
from casedesk.sla.models import BusinessCalendar, OrganisationPlan, SlaPlan, SlaRevision
from tests.conftest import make_staff

from .conftest import WEEKDAYS_8_17


def errs(r) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', r.content.decode(), re.S)


def _state():
    return (
        list(BusinessCalendar.objects.values()),
        list(SlaPlan.objects.values()),
        list(OrganisationPlan.objects.values()),
        SlaRevision.objects.count(),
    )


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def calendar_form(world, **kw):
    data = {
        "desk": world.desk.pk,
        "zone": "Europe/Copenhagen",
        "opening_hours": "0 08:00-17:00\n1 08:00-17:00",
        "holiday_country": "",
        "holiday_subdivision": "",
        "customers_see_times": "on",
        "days-TOTAL_FORMS": 0,  # the dated days, shown read-only
        "days-INITIAL_FORMS": 0,
    }
    return {**data, **kw}


def test_the_calendar_and_a_plan_are_made_in_the_admin_through_the_services(world, admin_client):
    r = admin_client.post("/admin/sla/businesscalendar/add/", calendar_form(world))
    assert r.status_code == 302, errs(r)
    cal = BusinessCalendar.objects.get(desk=world.desk)
    assert cal.week[0] == [[480, 1020]] and cal.week[2] == []
    assert SlaRevision.objects.filter(desk=world.desk, note="calendar").exists()
    page = admin_client.get(f"/admin/sla/businesscalendar/{cal.pk}/change/")
    assert "0 08:00-17:00" in page.content.decode()
    r = admin_client.post(
        "/admin/sla/slaplan/add/",
        {
            "desk": world.desk.pk,
            "slug": "gold",
            "name": "Gold",
            "desk_default": "on",
            "warn_percent": 80,
            "target_minutes": "urgent resolution 240\nurgent first_response 30",
        },
    )
    assert r.status_code == 302, errs(r)
    plan = SlaPlan.objects.get(slug="gold")
    assert {(t.priority, t.target, t.minutes) for t in plan.targets.all()} == {
        ("urgent", "resolution", 240),
        ("urgent", "first_response", 30),
    }
    r = admin_client.post(
        "/admin/sla/organisationplan/add/",
        {"desk": world.desk.pk, "organisation": world.org_a.pk, "plan": plan.pk},
    )
    assert r.status_code == 302, errs(r)
    assert OrganisationPlan.objects.get(organisation=world.org_a).plan == plan


@pytest.mark.parametrize(
    "kw, text",
    [
        ({"zone": "Mars/Olympus"}, "is not a known time zone"),
        ({"opening_hours": "0 17:00-08:00"}, "ends before it starts"),
        ({"opening_hours": "0 08:00-12:00\n0 11:00-13:00"}, "opening intervals overlap"),
        ({"opening_hours": "monday nine to five"}, "expected type or form"),
        ({"holiday_country": "XX"}, "No public holidays are known"),
    ],
)
def test_a_bad_calendar_is_refused_on_the_form_and_changes_nothing(world, admin_client, kw, text):
    admin_client.post("/admin/sla/businesscalendar/add/", calendar_form(world, zone="UTC"))
    cal = BusinessCalendar.objects.get()
    before = _state()
    r = admin_client.post(
        f"/admin/sla/businesscalendar/{cal.pk}/change/", calendar_form(world, **kw)
    )
    assert r.status_code == 200 and text in r.content.decode()
    assert _state() == before


def test_refusals_are_said_in_the_editor_s_language(world, admin_client):
    world.admin.language = "da"
    world.admin.save()
    r = admin_client.post(
        "/admin/sla/businesscalendar/add/",
        calendar_form(world, zone="Mars/Olympus"),
        HTTP_ACCEPT_LANGUAGE="da",
    )
    assert "er ikke en kendt tidszone" in r.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_a_plan_without_a_calendar_or_with_a_zero_target_is_refused(world, admin_client):
    form = {"desk": world.desk.pk, "slug": "p", "name": "P", "warn_percent": 80}
    r = admin_client.post("/admin/sla/slaplan/add/", {**form, "target_minutes": ""})
    assert "set the calendar first" in r.content.decode()
    admin_client.post("/admin/sla/businesscalendar/add/", calendar_form(world))
    before = _state()
    r = admin_client.post(
        "/admin/sla/slaplan/add/", {**form, "target_minutes": "urgent resolution 0"}
    )
    assert "minutes above zero" in r.content.decode()
    assert _state() == before


def test_staff_with_admin_screens_but_no_admin_role_on_the_desk_change_nothing(world, client):
    """Model permissions open the screens; the desk role decides (an agent of the desk,
    and an admin of another desk)."""
    other_admin = make_staff("otheradmin")
    StaffMembership.objects.create(desk=world.other_desk, user=other_admin, role="admin")
    for user in (world.agent, other_admin):
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="sla"))
        client.force_login(user)
        r = client.post("/admin/sla/businesscalendar/add/", calendar_form(world))
        assert r.status_code in (200, 403)
        assert not BusinessCalendar.objects.exists()


def test_removal_goes_through_the_service_and_is_refused_while_in_use(world, admin_client):
    from casedesk.sla import services

    services.calendar_set(actor=world.admin, desk=world.desk, zone="UTC", week=WEEKDAYS_8_17)
    plan = services.plan_save(actor=world.admin, desk=world.desk, slug="p", name="P", targets={})
    services.organisation_plan_set(
        actor=world.admin, desk=world.desk, organisation=world.org_a, plan=plan
    )
    before = _state()
    r = admin_client.post(
        "/admin/sla/slaplan/", {"action": "remove", "_selected_action": [plan.pk]}, follow=True
    )
    assert "Organisations are on this plan" in r.content.decode()
    r = admin_client.post(
        "/admin/sla/businesscalendar/",
        {"action": "remove", "_selected_action": [BusinessCalendar.objects.get().pk]},
        follow=True,
    )
    assert "Plans use this calendar" in r.content.decode()
    assert _state() == before
    admin_client.post(
        "/admin/sla/organisationplan/",
        {"action": "to_default", "_selected_action": [OrganisationPlan.objects.get().pk]},
    )
    admin_client.post("/admin/sla/slaplan/", {"action": "remove", "_selected_action": [plan.pk]})
    assert not SlaPlan.objects.exists() and not OrganisationPlan.objects.exists()
