"""The deployments recorded before releases were modelled, moved into this app.

Each desk's old deployments name a version and an environment as text. They become one
version line per desk (named "main"), a release per version, placed in the order the old
code compared them in (the version key it used), an environment per organisation and
name whose tier is that name (it is what the workflow's events matched on), and a
deployment each, with `legacy-<id>` as its pipeline id. Each environment runs its latest.
"""

import re

from django.db import migrations


def _key(version):
    # the order the old `released()` comparison used: 10.2 after 9.12, letters after numbers
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[._-]", version))


def forwards(apps, schema_editor):
    Old = apps.get_model("desks", "Deployment")
    VersionLine = apps.get_model("releases", "VersionLine")
    Release = apps.get_model("releases", "Release")
    Environment = apps.get_model("releases", "Environment")
    Deployment = apps.get_model("releases", "Deployment")
    old = list(Old.objects.order_by("deployed_at", "id"))
    if not old:
        return
    lines, releases, environments = {}, {}, {}
    for desk_id in sorted({d.desk_id for d in old}):
        lines[desk_id] = VersionLine.objects.create(desk_id=desk_id, name="main", position=1)
        versions = sorted({d.version for d in old if d.desk_id == desk_id}, key=_key)
        for i, version in enumerate(versions, start=1):
            releases[desk_id, version] = Release.objects.create(
                desk_id=desk_id,
                line=lines[desk_id],
                version=version,
                position=i * 10,
                published_on=min(
                    d.deployed_at for d in old if (d.desk_id, d.version) == (desk_id, version)
                ).date(),
                created_at=min(d.deployed_at for d in old if d.desk_id == desk_id),
            )
    for d in old:
        key = (d.organisation_id, d.desk_id, d.environment)
        if key not in environments:
            environments[key] = Environment.objects.create(
                organisation_id=d.organisation_id,
                desk_id=d.desk_id,
                name=d.environment,
                tier=d.environment,
                position=len([k for k in environments if k[:2] == key[:2]]) + 1,
            )
        new = Deployment.objects.create(
            desk_id=d.desk_id,
            organisation_id=d.organisation_id,
            environment=environments[key],
            release=releases[d.desk_id, d.version],
            deployed_at=d.deployed_at,
            received_at=d.deployed_at,
            pipeline_id=f"legacy-{d.pk}",
            recorded_by_id=d.recorded_by_id,
        )
        env = environments[key]
        env.current = new  # ordered by time: the last one written is the latest
        env.save(update_fields=["current"])


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_initial"),
        ("desks", "0002_validated_settings"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
