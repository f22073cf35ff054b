"""Full-text search over ticket key, title and description, with each engine's own index.

PostgreSQL: a generated tsvector column with a GIN index ('simple' configuration: no
stemming, so Danish, Dutch, Czech, Swedish and English words all match as written).
SQLite: an FTS5 table (accents folded) kept in step by triggers; where the SQLite build has
no FTS5, nothing is created and search falls back to substring matching.
"""

from django.db import migrations

POSTGRES_UP = [
    """ALTER TABLE tickets_ticket ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(key, '') || ' ' || coalesce(title, '') || ' ' ||
                    coalesce(description, ''))) STORED""",
    "CREATE INDEX ticket_search ON tickets_ticket USING gin (search)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ticket_search",
    "ALTER TABLE tickets_ticket DROP COLUMN search",
]

SQLITE_UP = [
    """CREATE VIRTUAL TABLE tickets_ticket_fts USING fts5(
        key, title, description, content='tickets_ticket', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER tickets_ticket_fts_insert AFTER INSERT ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_fts(rowid, key, title, description)
        VALUES (new.id, new.key, new.title, new.description);
    END""",
    """CREATE TRIGGER tickets_ticket_fts_delete AFTER DELETE ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, key, title, description)
        VALUES ('delete', old.id, old.key, old.title, old.description);
    END""",
    """CREATE TRIGGER tickets_ticket_fts_update AFTER UPDATE ON tickets_ticket
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description
        OR old.key IS NOT new.key BEGIN
        INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, key, title, description)
        VALUES ('delete', old.id, old.key, old.title, old.description);
        INSERT INTO tickets_ticket_fts(rowid, key, title, description)
        VALUES (new.id, new.key, new.title, new.description);
    END""",
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_insert",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_update",
    "DROP TABLE IF EXISTS tickets_ticket_fts",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_UP)
    elif vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
            has_fts5 = bool(cursor.fetchone()[0])
        if has_fts5:
            _run(schema_editor, SQLITE_UP)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_DOWN)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
