"""Logging work and correcting it (SECURITY-TESTS T19): who, the desk's local day, how
long, the kind of work and whether it is billed; every bad entry refused, nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import RoundingRule, TimeEntry
from casedesk.sheets.selectors import sheets_for
from casedesk.tickets.models import TicketEvent

from .conftest import started


def log(world, ticket, sl, **kw):
    args = dict(
        actor=world.agent,
        ticket=ticket,
        minutes=90,
        description="Sestava opravena.",
        kind="consulting",
    )
    args.update(kw)
    return sheet_services.work_log(**args)


def test_the_day_is_the_desks_local_day_never_utc(world, sl, clock):
    # 22:30 UTC on 31 March is half past midnight on 1 April in Prague
    clock.set(datetime(2027, 3, 31, 22, 30, tzinfo=UTC))
    ticket = started(world, sl)
    entry = log(world, ticket, sl)
    assert entry.day == date(2027, 4, 1)
    assert (entry.worker, entry.logged_by, entry.minutes, entry.billable) == (
        world.agent,
        world.agent,
        90,
        True,  # the kind's default
    )
    # the kind's default can be overridden either way
    travel = log(world, ticket, sl, kind="travel", minutes=30)
    assert travel.billable is False
    billed_travel = log(world, ticket, sl, kind="travel", minutes=30, billable=True)
    assert billed_travel.billable is True
    # each entry is in the history, as the customer may read it
    logged = TicketEvent.objects.filter(ticket=ticket, kind="time_logged")
    assert [e.data["minutes"] for e in logged] == [90, 30, 30]
    assert all(e.public for e in logged)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"minutes": -30}, "minutes"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": 10**9}, "minutes"),
        ({"minutes": "lots"}, "minutes"),
        ({"day": "2026-11-03"}, "day"),  # tomorrow
        ({"day": "31.3.2026"}, "day"),
        ({"kind": "dancing"}, "kind"),
        ({"kind": None}, "kind"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(world, sl, change, field):
    ticket = started(world, sl)
    events = TicketEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        log(world, ticket, sl, **change)
    assert field in caught.value.errors
    assert not TimeEntry.objects.exists()
    assert TicketEvent.objects.count() == events


def test_a_kind_of_another_desk_is_not_one_of_this_desks(world, sl):
    ticket = started(world, sl)
    sl.consulting.active = False
    sl.consulting.save()
    with pytest.raises(InvalidInput) as caught:
        log(world, ticket, sl)  # "consulting" now exists only on the other desk
    assert "kind" in caught.value.errors


def test_no_one_logs_more_than_24_hours_on_one_day(world, sl):
    one, two = started(world, sl), started(world, sl, "Jiný úkol")
    log(world, one, sl, minutes=20 * 60)
    with pytest.raises(InvalidInput) as caught:
        log(world, two, sl, minutes=5 * 60)
    assert "minutes" in caught.value.errors
    log(world, two, sl, minutes=4 * 60)
    assert TimeEntry.objects.count() == 2


def test_customers_and_strangers_cannot_log(world, sl):
    ticket = started(world, sl)
    with pytest.raises(Forbidden):
        log(world, ticket, sl, actor=world.alice)
    with pytest.raises(NotFound):
        log(world, ticket, sl, actor=world.bob)
    with pytest.raises(NotFound):
        log(world, ticket, sl, actor=world.outsider)  # staff of another desk
    with pytest.raises(InvalidInput):  # a worker who is not staff of this desk
        log(world, ticket, sl, worker=world.outsider)
    assert not TimeEntry.objects.exists()


def test_a_correction_is_a_new_entry_linked_to_the_one_it_corrects(world, sl, clock):
    ticket = started(world, sl)
    first = log(world, ticket, sl, minutes=120)
    clock.advance(hours=1)
    fixed = sheet_services.work_correct(
        actor=world.agent, entry_id=first.pk, minutes=90, description="Jen 1,5 h."
    )
    first.refresh_from_db()
    assert (first.minutes, fixed.corrects, fixed.minutes, fixed.kind) == (
        120,
        first,
        90,
        sl.consulting,
    )
    (view,) = sheets_for(user=world.alice, ticket=ticket)
    assert [(r.entry.pk, r.counts) for r in view.rows] == [(first.pk, False), (fixed.pk, True)]
    assert (view.worked, view.billed) == (90, 90)
    event = TicketEvent.objects.get(ticket=ticket, kind="time_corrected")
    assert (event.data["before"]["minutes"], event.data["minutes"]) == (120, 90)

    # an entry is corrected once; the newer one is corrected next
    with pytest.raises(InvalidInput):
        sheet_services.work_correct(
            actor=world.agent, entry_id=first.pk, minutes=60, description="Znovu."
        )
    # zero minutes take the work off the sheet
    sheet_services.work_correct(
        actor=world.agent, entry_id=fixed.pk, minutes=0, description="Omylem zapsáno."
    )
    (view,) = sheets_for(user=world.alice, ticket=ticket)
    assert (view.worked, view.billed) == (0, 0)
    # customers and other organisations correct nothing
    with pytest.raises(Forbidden):
        sheet_services.work_correct(
            actor=world.alice, entry_id=first.pk, minutes=1, description="Ne."
        )
    with pytest.raises(NotFound):
        sheet_services.work_correct(actor=world.bob, entry_id=first.pk, minutes=1, description="?")
    assert TimeEntry.objects.count() == 3


def test_billed_time_follows_the_organisations_rounding_rules(world, sl):
    ticket = started(world, sl)
    RoundingRule.objects.create(organisation=world.org_a, increment=15, mode="up")
    RoundingRule.objects.create(
        organisation=world.org_a, kind=sl.travel, increment=30, minimum=60, mode="nearest"
    )
    log(world, ticket, sl, minutes=50)  # billed 60 (15 up)
    log(world, ticket, sl, minutes=7)  # billed 15
    log(world, ticket, sl, kind="travel", minutes=40, billable=True)  # 30 nearest, 60 minimum
    log(world, ticket, sl, kind="travel", minutes=40)  # not billed
    (view,) = sheets_for(user=world.agent, ticket=ticket)
    assert [r.billed for r in view.rows] == [60, 15, 60, 0]
    assert (view.worked, view.billed, view.billable_worked) == (137, 135, 97)
    assert [(k.kind.slug, k.worked, k.billed) for k in view.by_kind] == [
        ("consulting", 57, 75),
        ("travel", 80, 60),
    ]
    # another organisation's rules do not apply here
    RoundingRule.objects.create(organisation=world.org_b, increment=60)
    (again,) = sheets_for(user=world.agent, ticket=ticket)
    assert again.billed == 135


def test_another_organisation_never_sees_a_sheet(world, sl):
    ticket = started(world, sl)
    log(world, ticket, sl)
    assert len(sheets_for(user=world.amir, ticket=ticket)[0].rows) == 1  # a colleague sees it
    for stranger in (world.bob, world.outsider):
        with pytest.raises(NotFound):
            sheets_for(user=stranger, ticket=ticket)
