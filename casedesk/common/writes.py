"""Kept-back writes: the worker's row writes of a whole batch, sent as a few statements.

On PostgreSQL every statement costs the worker a round trip (about 75 µs of its own
processor time, however small the statement). A batch of due timers or clocks writes the
same few kinds of rows for every item: a history entry, its outbox items, the ticket, its
timer or clock. Inside `kept_back()` the kept statements of `common/rows.py`
(`insert_row`, `insert_rows`, `update_row`, `delete_row`) do not run at once; their rows
are collected and sent together, one statement per table and kind of write, when the
block ends.

What makes this safe for any code that runs inside the block:

- **Every other statement sees every write before it.** Before any statement that is not
  one of the kept-back writes runs on the connection (an ORM read, a save, a savepoint),
  the collected writes are sent first. Code inside the block therefore reads what it
  wrote, exactly as without it; it only costs the batching.
- **New rows get their key at once.** A new row's primary key is taken when it is
  written, not when it is sent (PostgreSQL: from the table's sequence, a few at a time;
  SQLite, whose write lock the transaction holds: counted on from the table's last key,
  read again after any other statement), so code that reads `obj.pk` straight after the
  write sees the key it would have seen.
- **Order is kept where it matters.** Updates of one row are merged in the order they
  were made; a row deleted and then inserted again sends what was collected first.
  Foreign keys are checked at commit on both engines, so the order of the tables does not
  matter.

Leave the block by an exception and nothing collected is sent: the caller's transaction
is rolled back anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, models

_local = threading.local()

# Rows per statement: far below both engines' limits on parameters for any of our tables.
_ROWS_PER_STATEMENT = 200


def pending(using: str) -> Writes | None:
    """The kept-back writes open on connection `using`, if any."""
    return getattr(_local, "by_alias", {}).get(using)


@contextmanager
def kept_back(using: str = "default") -> Iterator[Writes]:
    """Collect the kept statements' writes on `using` and send them at the end (see the
    module's text). Needs a transaction; blocks do not nest."""
    connection = connections[using]
    assert connection.in_atomic_block, "kept-back writes need a transaction"
    by_alias = _local.__dict__.setdefault("by_alias", {})
    assert using not in by_alias, "kept-back writes do not nest"
    writes = by_alias[using] = Writes(using)
    connection.execute_wrappers.append(writes.before_statement)
    try:
        yield writes
        writes.send()
    finally:
        connection.execute_wrappers.remove(writes.before_statement)
        del by_alias[using]


class Writes:
    def __init__(self, using: str):
        self.using = using
        self.connection = connections[using]
        self._own = False  # sending our own statements: no flush before them
        self._inserts: dict[type[models.Model], tuple[list[str], list[list[Any]]]] = {}
        self._updates: dict[tuple[type[models.Model], Any], dict[str, tuple[Any, Any]]] = {}
        self._deletes: dict[type[models.Model], list[Any]] = {}
        self._deleted: set[tuple[type[models.Model], Any]] = set()
        self._keys: dict[type[models.Model], Iterator[int]] = {}
        self.statements = 0  # sent by this block (for tests and benchmarks)

    # -- collecting ---------------------------------------------------------------------

    def insert(
        self, model: type[models.Model], columns: list[str], rows: list[list[Any]], pk: Any
    ) -> None:
        """Rows of `model` for `columns`; `pk`: the single row's key, if it has one here."""
        if pk is not None and (model, pk) in self._deleted:
            self.send()  # deleted, then written again: the delete goes first
        kept = self._inserts.get(model)
        if kept is not None and kept[0] != columns:
            self.send()
            kept = None
        if kept is None:
            kept = self._inserts[model] = (columns, [])
        kept[1].extend(rows)

    def update(
        self, model: type[models.Model], pk: Any, values: dict[str, tuple[Any, Any]]
    ) -> None:
        """Set `values` ({column: (field, value)}) on the row of `model` with key `pk`."""
        self._updates.setdefault((model, pk), {}).update(values)

    def delete(self, model: type[models.Model], pk: Any) -> None:
        self._deletes.setdefault(model, []).append(pk)
        self._deleted.add((model, pk))

    def new_key(self, model: type[models.Model]) -> int:
        """The primary key a new row of `model` gets, taken now."""
        keys = self._keys.get(model)
        key = next(keys, None) if keys is not None else None
        if key is None:
            keys = self._keys[model] = self._take_keys(model)
            key = next(keys)
        return key

    def _take_keys(self, model: type[models.Model]) -> Iterator[int]:
        quote = self.connection.ops.quote_name
        table, column = model._meta.db_table, str(model._meta.pk.column)
        self._own = True
        try:
            with self.connection.cursor() as cursor:
                if self.connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                        "FROM generate_series(1, %s)",
                        [quote(table), column, 32],
                    )
                    self.statements += 1
                    return iter([row[0] for row in cursor.fetchall()])
                # SQLite: this transaction holds the database's write lock; count on
                # from the last key given (AUTOINCREMENT keeps it in sqlite_sequence).
                cursor.execute(
                    f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608
                    f" coalesce((SELECT max({quote(column)}) FROM {quote(table)}), 0))",
                    [table],
                )
                self.statements += 1
                last = int(cursor.fetchone()[0])
                # enough for any batch; forgotten after any other statement (before_statement)
                return iter(range(last + 1, last + 1 + 1_000_000))
        finally:
            self._own = False

    # -- sending ------------------------------------------------------------------------

    def before_statement(
        self, execute: Any, sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not self._own:
            if self._inserts or self._updates or self._deletes:
                self.send()
            if self.connection.vendor != "postgresql":
                self._keys.clear()  # another statement may have inserted rows
        return execute(sql, params, many, context)

    def send(self) -> None:
        """Send everything collected so far."""
        inserts, updates, deletes = self._inserts, self._updates, self._deletes
        self._inserts, self._updates, self._deletes = {}, {}, {}
        self._deleted = set()
        self._own = True
        try:
            with self.connection.cursor() as cursor:
                for model, (names, rows) in inserts.items():
                    self._send_inserts(cursor, model, names, rows)
                groups: dict[tuple[type[models.Model], tuple[str, ...]], list[Any]] = {}
                for (model, pk), values in updates.items():
                    groups.setdefault((model, tuple(values)), []).append((pk, values))
                for (model, columns), changed in groups.items():
                    self._send_updates(cursor, model, columns, changed)
                for model, pks in deletes.items():
                    self._send_deletes(cursor, model, pks)
        finally:
            self._own = False

    def _execute(self, cursor: Any, sql: str, params: list[Any]) -> None:
        cursor.execute(sql, params)
        self.statements += 1

    def _send_inserts(
        self, cursor: Any, model: Any, columns: list[str], rows: list[list[Any]]
    ) -> None:
        quote = self.connection.ops.quote_name
        head = (
            f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(c) for c in columns)}) VALUES "
        )
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            self._execute(cursor, head + ", ".join([one] * len(part)), [v for r in part for v in r])

    def _send_updates(
        self, cursor: Any, model: Any, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        quote = self.connection.ops.quote_name
        table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
        if len(rows) == 1:
            (key, values) = rows[0]
            sets = ", ".join(f"{quote(c)} = %s" for c in columns)
            self._execute(
                cursor,
                f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608
                [*(values[c][1] for c in columns), key],
            )
            return
        fields = [rows[0][1][c][0] for c in columns]
        sets = ", ".join(
            f"{quote(c)} = {self._cast(f'v.c{i}', field)}"
            for i, (c, field) in enumerate(zip(columns, fields, strict=True))
        )
        names = ", ".join(["k", *(f"c{i}" for i in range(len(columns)))])
        one = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            params = [v for key, values in part for v in (key, *(values[c][1] for c in columns))]
            self._execute(
                cursor,
                f"WITH v({names}) AS (VALUES {', '.join([one] * len(part))}) "  # noqa: S608
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{pk} = v.k",
                params,
            )

    def _cast(self, expression: str, field: Any) -> str:
        """On PostgreSQL a VALUES list's columns take their types from the values (text
        for a quoted one), so each is cast to its column's type; a varchar to text, which
        the column then takes with its usual length check."""
        if self.connection.vendor != "postgresql":
            return expression
        db_type = field.db_type(self.connection) or "text"
        if db_type.startswith("varchar"):
            db_type = "text"
        return f"{expression}::{db_type}"

    def _send_deletes(self, cursor: Any, model: Any, pks: list[Any]) -> None:
        quote = self.connection.ops.quote_name
        table, column = quote(model._meta.db_table), quote(str(model._meta.pk.column))
        for start in range(0, len(pks), _ROWS_PER_STATEMENT):
            part = pks[start : start + _ROWS_PER_STATEMENT]
            marks = ", ".join(["%s"] * len(part))
            self._execute(
                cursor,
                f"DELETE FROM {table} WHERE {column} IN ({marks})",  # noqa: S608
                part,
            )
