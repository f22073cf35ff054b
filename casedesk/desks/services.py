"""Storing workflow versions and setting up desks."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from casedesk.workflow import checksum, load_text
from casedesk.workflow.loader import PRESETS

from .models import Desk, Team, WorkflowVersion, key_prefix_validator


def workflow_store(*, source: str, origin: str) -> WorkflowVersion:
    """Check a workflow file and keep it as an immutable version (once per content).

    Raises WorkflowError, with every problem, if the file does not load."""
    wf = load_text(source, origin)
    version, _ = WorkflowVersion.objects.get_or_create(
        checksum=checksum(source),
        defaults={"slug": wf.slug, "version": wf.version, "source": source, "origin": origin},
    )
    return version


def preset_store(name: str) -> WorkflowVersion:
    path = PRESETS / f"{name}.yaml"
    if not path.is_file() or path.parent != PRESETS:
        raise ValueError(f"no preset called '{name}'")
    return workflow_store(source=path.read_text(encoding="utf-8"), origin=f"presets/{path.name}")


def preset_names() -> list[str]:
    return sorted(p.stem for p in Path(PRESETS).glob("*.yaml"))


@transaction.atomic
def desk_create(
    *, name: str, key_prefix: str, workflow: WorkflowVersion, slug: str = "", time_zone: str = "UTC"
) -> Desk:
    """A desk on `workflow`, with the teams its workflow routes to."""
    key_prefix_validator(key_prefix)
    desk = Desk.objects.create(
        name=name,
        slug=slug or slugify(name),
        key_prefix=key_prefix,
        workflow=workflow,
        time_zone=time_zone,
    )
    team_sync(desk)
    return desk


def team_sync(desk: Desk) -> None:
    """Make sure every team the desk's workflow names exists on the desk."""
    wf = desk.workflow.workflow
    for slug, team in wf.teams.items():
        Team.objects.get_or_create(
            desk=desk, slug=slug, defaults={"name": wf.text(team.label, wf.languages[0])}
        )


@transaction.atomic
def desk_switch_workflow(*, desk: Desk, workflow: WorkflowVersion) -> Desk:
    """New tickets use `workflow`; existing tickets keep the version they started on."""
    desk.workflow = workflow
    desk.save(update_fields=["workflow"])
    team_sync(desk)
    return desk
