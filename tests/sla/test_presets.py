"""The shipped example service levels, applied through the services."""

from datetime import UTC, date, datetime

import pytest

from casedesk.sla.models import BusinessCalendar, CalendarDay, SlaPlan, TicketClock
from casedesk.sla.presets import sla_preset_apply, sla_preset_names
from casedesk.tickets import services
from tests.conftest import make_desk


@pytest.mark.parametrize("preset", sla_preset_names())
def test_each_shipped_file_applies_to_its_desk(world, preset):
    desk = make_desk(preset, preset[:4].upper(), [world.org_a], {world.agent: "agent"})
    plans = sla_preset_apply(actor=world.admin, desk=desk, preset=preset)
    assert plans and SlaPlan.objects.filter(desk=desk, desk_default=True).count() == 1
    for plan in plans:
        assert set(plan.targets.values_list("priority", flat=True)) == set(
            desk.workflow.workflow.priorities
        )


def test_sda_is_open_8_to_17_on_weekdays_without_danish_holidays(world, clock):
    desk = make_desk("sda", "SDA", [world.org_a], {world.agent: "agent"})
    sla_preset_apply(actor=world.admin, desk=desk, preset="sda")
    cal = BusinessCalendar.objects.get(desk=desk)
    assert cal.zone == "Europe/Copenhagen" and cal.week[0] == [[480, 1020]] and cal.week[5] == []
    days = set(CalendarDay.objects.filter(calendar=cal).values_list("day", flat=True))
    assert date(2026, 12, 25) in days and date(2027, 3, 26) in days  # Christmas, Good Friday
    clock.set(datetime(2026, 12, 24, 15, 0, tzinfo=UTC))  # Thursday 16:00 in Copenhagen
    ticket = services.ticket_create(actor=world.alice, desk=desk, title="Stopped", priority="high")
    first = TicketClock.objects.get(ticket=ticket, target="first_response")
    # one hour on the 24th, then the 25th and 26th (a Saturday) and Sunday: Monday 09:00
    assert first.due_at == datetime(2026, 12, 28, 8, 0, tzinfo=UTC)


def test_twovalue_has_an_8x5_plan_and_a_24x7_plan(world, clock):
    desk = make_desk("twovalue", "TV", [world.org_a, world.org_b], {world.agent: "agent"})
    plans = {p.slug: p for p in sla_preset_apply(actor=world.admin, desk=desk, preset="twovalue")}
    assert plans["office_hours"].desk_default and plans["around_the_clock"].around_the_clock
    from casedesk.sla.services import organisation_plan_set

    organisation_plan_set(
        actor=world.admin, desk=desk, organisation=world.org_b, plan=plans["around_the_clock"]
    )
    clock.set(datetime(2026, 11, 7, 12, 0, tzinfo=UTC))  # a Saturday
    office = services.ticket_create(actor=world.alice, desk=desk, title="a", priority="critical")
    watched = services.ticket_create(actor=world.bob, desk=desk, title="b", priority="critical")
    due = {
        t.organisation_id: TicketClock.objects.get(ticket=t, target="first_response").due_at
        for t in (office, watched)
    }
    assert due[world.org_a.pk] == datetime(2026, 11, 9, 7, 30, tzinfo=UTC)  # Monday 08:30 local
    assert due[world.org_b.pk] == datetime(2026, 11, 7, 12, 15, tzinfo=UTC)  # 15 minutes
