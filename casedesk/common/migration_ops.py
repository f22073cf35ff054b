"""Migration operations that keep upgrades free of long locks on both databases."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexOnline(AddIndexConcurrently):
    """An index on a table that may be large: built CONCURRENTLY on PostgreSQL, so writes
    go on while it is made (the migration must say `atomic = False`), and as a plain
    CREATE INDEX elsewhere (SQLite, where nothing else writes during a migration)."""

    def _ensure_not_in_transaction(self, schema_editor: Any) -> None:
        # (only collecting the SQL, as `sqlmigrate` and the lock check do, runs nothing)
        if not schema_editor.collect_sql:
            super()._ensure_not_in_transaction(schema_editor)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )
