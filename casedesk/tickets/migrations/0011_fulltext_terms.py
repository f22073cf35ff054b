"""SQLite: the words the full-text index holds, with the number of tickets each is in
(an `fts5vocab` table: no storage of its own, it reads the FTS5 index). Search uses it to
turn each typed word into the indexed words it begins, and to estimate how common the
search is before choosing how to read it (casedesk.tickets.search). PostgreSQL keeps its
own statistics; nothing is created there."""

from django.db import migrations

UP = "CREATE VIRTUAL TABLE tickets_ticket_fts_terms USING fts5vocab(tickets_ticket_fts, row)"
DOWN = "DROP TABLE IF EXISTS tickets_ticket_fts_terms"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets_ticket_fts'"
        )
        if cursor.fetchone() is None:
            return  # built without FTS5: search matches substrings instead
    schema_editor.execute(UP)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DOWN)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_team_recent")]
    operations = [migrations.RunPython(forward, backward)]
