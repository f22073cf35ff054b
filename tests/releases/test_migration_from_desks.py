"""The data migration that moved desks.Deployment into releases: the database is taken
back to the migration before it, old rows are written with the old model, and migrating
forward must give the version line, releases in the old comparison's order, environments
with their names as tiers, deployments and what each environment runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from casedesk.common import clock as clock_module
from casedesk.releases.models import Deployment, Environment, Release, VersionLine

BEFORE = [("desks", "0002_validated_settings"), ("releases", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_deployments_become_releases_environments_and_deployments(world):
    t0 = clock_module.now() - timedelta(days=30)
    desk, lead = world.desk, world.lead
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old_apps = migrate(BEFORE)
        Old = old_apps.get_model("desks", "Deployment")
        rows = [
            # (organisation, environment, version, days after t0)
            (world.org_a, "TEST", "9.12", 1),
            (world.org_a, "TEST", "10.2", 3),
            (world.org_a, "PROD", "9.12", 4),
            (world.org_b, "PROD", "9.2", 2),
            # written last but older: the environment still runs 10.2
            (world.org_a, "TEST", "9.2", 0),
        ]
        old = [
            Old.objects.create(
                desk_id=desk.pk,
                organisation_id=org.pk,
                environment=env,
                version=version,
                deployed_at=t0 + timedelta(days=days),
                recorded_by_id=lead.pk,
            )
            for org, env, version, days in rows
        ]
    finally:
        migrate(leaves)

    (line,) = VersionLine.objects.filter(desk=desk)
    assert line.name == "main"
    # the old comparison's order, numbers as numbers: 9.2, 9.12, 10.2
    assert [(r.version, r.position) for r in Release.objects.filter(line=line)] == [
        ("9.2", 10),
        ("9.12", 20),
        ("10.2", 30),
    ]
    assert Release.objects.get(desk=desk, version="9.2").published_on == t0.date()
    envs = {(e.organisation_id, e.name): e for e in Environment.objects.filter(desk=desk)}
    assert set(envs) == {
        (world.org_a.pk, "TEST"),
        (world.org_a.pk, "PROD"),
        (world.org_b.pk, "PROD"),
    }
    assert all(e.tier == e.name for e in envs.values())
    moved = {d.pipeline_id: d for d in Deployment.objects.filter(desk=desk)}
    assert set(moved) == {f"legacy-{o.pk}" for o in old}
    for o, (org, env, version, days) in zip(old, rows, strict=True):
        d = moved[f"legacy-{o.pk}"]
        assert (d.organisation_id, d.environment.name, d.release.version) == (org.pk, env, version)
        assert d.deployed_at == t0 + timedelta(days=days)
        assert d.recorded_by_id == lead.pk
    current = {k: e.current.release.version for k, e in envs.items()}
    assert current == {
        (world.org_a.pk, "TEST"): "10.2",
        (world.org_a.pk, "PROD"): "9.12",
        (world.org_b.pk, "PROD"): "9.2",
    }
