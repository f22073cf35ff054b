"""Times in the viewer's zone: their own setting, else their browser's, else the desk's;
a list whose times are in more than one zone labels each of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from casedesk.accounts.models import User
from casedesk.accounts.services import user_set_time_zone
from casedesk.common.errors import InvalidInput
from casedesk.tickets import services
from casedesk.tickets.models import Ticket
from tests.conftest import make_desk

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # 13:00 in Copenhagen, 07:00 in New York


@pytest.fixture
def two_zones(world):
    """A ticket on a Copenhagen desk and one on a London desk, both updated at NOON UTC."""
    world.desk.time_zone = "Europe/Copenhagen"
    world.desk.save()
    london = make_desk("default", "LON", [world.org_a], {world.agent: "agent"})
    london.time_zone = "Europe/London"
    london.save()
    here = services.ticket_create(actor=world.alice, desk=world.desk, title="Copenhagen one")
    there = services.ticket_create(actor=world.alice, desk=london, title="London one")
    Ticket.objects.filter(pk__in=[here.pk, there.pk]).update(updated_at=NOON)
    return here, there


def _updated(page: str, key: str) -> str:
    """The 'Updated' cell of a ticket's row, tags removed."""
    row = re.search(rf"<td class=\"key nowrap\">{key}</td>(.*?)</tr>", page, re.S)
    assert row, key
    cell = re.findall(r"<td data-label=\"Updated\"[^>]*>(.*?)</td>", row.group(1), re.S)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


def test_without_a_zone_of_their_own_each_time_is_labelled_with_its_desks(client, world, two_zones):
    here, there = two_zones
    client.force_login(world.alice)
    page = client.get("/portal/").content.decode()
    assert _updated(page, here.key) == "Nov. 2, 2026, 1 p.m. CET"
    assert _updated(page, there.key) == "Nov. 2, 2026, noon GMT"
    assert "Times are in each desk&#x27;s time zone, as marked." in page


def test_the_browsers_zone_puts_one_list_in_one_zone(client, world, two_zones):
    here, there = two_zones
    client.force_login(world.agent)
    client.cookies["casedesk_tz"] = "America/New_York"
    page = client.get("/agent/?queue=all").content.decode()
    assert _updated(page, here.key) == _updated(page, there.key) == "Nov. 2, 2026, 7 a.m."
    assert "Times are in your browser&#x27;s time zone, America/New_York." in page
    ticket = client.get(f"/agent/t/{here.key}/").content.decode()
    assert "Times are in your browser&#x27;s time zone, America/New_York." in ticket
    # a cookie that names no zone is ignored, never an error
    client.cookies["casedesk_tz"] = "Mars/Olympus_Mons"
    page = client.get("/agent/?queue=all").content.decode()
    assert "CET" in _updated(page, here.key) and "as marked" in page


def test_a_persons_own_zone_wins_over_the_browsers(client, world, two_zones):
    here, _ = two_zones
    user_set_time_zone(user=world.alice, time_zone="Asia/Tokyo")
    client.force_login(world.alice)
    client.cookies["casedesk_tz"] = "America/New_York"
    page = client.get("/portal/").content.decode()
    assert _updated(page, here.key) == "Nov. 2, 2026, 9 p.m."
    assert "Times are in your time zone, Asia/Tokyo." in page
    ticket = client.get(f"/portal/t/{here.key}/").content.decode()
    assert "Times are in your time zone, Asia/Tokyo." in ticket


def test_the_time_zone_page_saves_a_valid_zone_and_refuses_others(client, world):
    client.force_login(world.alice)
    page = client.get("/account/time-zone/").content.decode()
    assert 'value="Europe/Prague"' in page
    response = client.post("/account/time-zone/", {"time_zone": "Europe/Prague"})
    assert response.status_code == 302
    assert User.objects.get(pk=world.alice.pk).time_zone == "Europe/Prague"
    for bad in ("Mars/Olympus_Mons", "localtime", "../../etc/passwd", "x" * 500):
        response = client.post("/account/time-zone/", {"time_zone": bad})
        assert response.status_code == 422
        assert "not a time zone Casedesk knows" in response.content.decode()
        assert User.objects.get(pk=world.alice.pk).time_zone == "Europe/Prague"
    # blank goes back to the browser's zone
    client.post("/account/time-zone/", {"time_zone": ""})
    assert User.objects.get(pk=world.alice.pk).time_zone == ""


def test_every_path_refuses_a_zone_that_is_not_one(world):
    with pytest.raises(InvalidInput):
        user_set_time_zone(user=world.alice, time_zone="Europe/Atlantis")
    world.alice.time_zone = "Europe/Atlantis"
    with pytest.raises(ValidationError):
        world.alice.save()
    assert User.objects.get(pk=world.alice.pk).time_zone == ""


def test_one_persons_zone_changes_only_their_own_pages(client, world, two_zones):
    here, _ = two_zones
    user_set_time_zone(user=world.amir, time_zone="Asia/Tokyo")
    client.force_login(world.alice)
    page = client.get("/portal/").content.decode()
    assert "Asia/Tokyo" not in page and "CET" in _updated(page, here.key)
