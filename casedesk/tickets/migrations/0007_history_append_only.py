"""History is append-only in the database too.

The model refuses changes, but raw SQL, another client or a cascade would not ask it. On
PostgreSQL a trigger refuses every UPDATE and DELETE of a history row, and the delete of a
ticket that has history (a clear error at once, rather than the foreign key's at commit).
SQLite has no such triggers here: there the model and PROTECT are the guard.
"""

from django.db import migrations, models
import django.db.models.deletion


class PostgresOnly(migrations.RunSQL):
    """RunSQL on PostgreSQL; nothing on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


FORWARDS = [
    """
CREATE FUNCTION casedesk_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket history is append-only: % of a row of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$
""",
    """
CREATE TRIGGER tickets_ticketevent_append_only
    BEFORE UPDATE OR DELETE ON tickets_ticketevent
    FOR EACH ROW EXECUTE FUNCTION casedesk_history_append_only()
""",
    """
CREATE FUNCTION casedesk_ticket_keeps_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tickets_ticketevent WHERE ticket_id = OLD.id) THEN
        RAISE EXCEPTION 'ticket % has history and cannot be deleted', OLD.key
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END;
$$
""",
    """
CREATE TRIGGER tickets_ticket_keeps_history
    BEFORE DELETE ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION casedesk_ticket_keeps_history()
""",
]

BACKWARDS = [
    "DROP TRIGGER tickets_ticket_keeps_history ON tickets_ticket",
    "DROP FUNCTION casedesk_ticket_keeps_history()",
    "DROP TRIGGER tickets_ticketevent_append_only ON tickets_ticketevent",
    "DROP FUNCTION casedesk_history_append_only()",
]


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0006_outbox_and_timers_are_durable_jobs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketevent",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="tickets.ticket",
            ),
        ),
        PostgresOnly(FORWARDS, BACKWARDS),
    ]
