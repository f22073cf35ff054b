"""A delivery may tell of news that is no ticket's history entry (a deployment): its
event becomes nullable.

Django's AlterField drops the foreign key and adds it again, which checks every row of
the deliveries table under a lock. Only the NOT NULL has to go, so on PostgreSQL that is
all this does (a catalogue change, no scan); SQLite rebuilds its table as it always does.
"""

import copy

import django.db.models.deletion
from django.db import migrations, models

NULLABLE = 'ALTER TABLE "webhooks_webhookdelivery" ALTER COLUMN "event_id" DROP NOT NULL'


def _field(null: bool):
    return models.ForeignKey(
        blank=null,
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="tickets.ticketevent",
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NULLABLE)
        return
    model = apps.get_model("webhooks", "WebhookDelivery")
    old = model._meta.get_field("event")
    new = copy.copy(old)
    new.null = new.blank = True
    schema_editor.alter_field(model, old, new)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_ticket_sla_times"),
        ("webhooks", "0002_deliveries_are_durable_jobs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery", name="event", field=_field(True)
                ),
            ],
            database_operations=[migrations.RunPython(forwards, migrations.RunPython.noop)],
        )
    ]
