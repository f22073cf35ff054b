"""The status guide explains the targets and what each status does to the clocks."""

from django.urls import reverse

from casedesk.sla.models import SlaPlan
from casedesk.sla.presets import sla_preset_apply
from casedesk.sla.services import organisation_plan_set
from tests.conftest import make_desk


def test_the_guide_shows_a_customer_their_own_plan_and_the_clocks_per_status(client, world, clock):
    desk = make_desk("twovalue", "TV", [world.org_a, world.org_b], {world.agent: "agent"})
    sla_preset_apply(actor=world.admin, desk=desk, preset="twovalue")
    organisation_plan_set(
        actor=world.admin,
        desk=desk,
        organisation=world.org_b,
        plan=SlaPlan.objects.get(desk=desk, slug="around_the_clock"),
    )
    client.force_login(world.alice)
    html = client.get(reverse("portal:guide", args=[desk.pk]) + "?lang=en").content.decode()
    assert "Service levels" in html and "Kantoortijden (8x5)" in html
    assert "Monitored infrastructure" not in html
    assert "0 h 30 min" in html  # critical first response on office hours
    assert "Our service level clocks are paused here." in html  # pending input
    assert "Closed on" in html  # Dutch public holidays ahead
    client.force_login(world.bob)
    html = client.get(reverse("portal:guide", args=[desk.pk]) + "?lang=nl").content.decode()
    assert "Monitored infrastructure (24x7)" in html and "Kantoortijden" not in html
    assert "Serviceniveaus" in html
