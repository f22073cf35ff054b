"""Deployments are kept by the releases app now (its migration 0002 copied them)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("desks", "0002_validated_settings"),
        ("releases", "0002_deployments_from_desks"),
    ]

    operations = [migrations.DeleteModel(name="Deployment")]
