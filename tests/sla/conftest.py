import pytest

from casedesk.sla import services

WEEKDAYS_8_17 = {d: [("08:00", "17:00")] for d in range(5)}


@pytest.fixture
def sla_desk(world):
    """The world's desk on an 8x5 calendar in Amsterdam, with one default plan."""
    services.calendar_set(
        actor=world.admin, desk=world.desk, zone="Europe/Amsterdam", week=WEEKDAYS_8_17
    )
    wf = world.desk.workflow.workflow
    targets = {
        p: {"first_response": 60, "next_response": 4 * 60, "resolution": 8 * 60}
        for p in wf.priorities
    }
    services.plan_save(
        actor=world.admin,
        desk=world.desk,
        slug="standard",
        name="Standard",
        targets=targets,
        desk_default=True,
    )
    return world.desk
