"""Small helpers for the worker's hot reads and writes.

The worker makes the same few statements for every timer or clock it fires. Building a
statement through the ORM (the query, its joins, its SQL) cost more than running it: about
0.3 ms of Python each, against tens of microseconds in the database. `Prepared` builds
such a read once per database connection and keeps its SQL, and `insert_row` writes a row
from a kept INSERT statement; both give the same model instances and values the ORM would.
Inside `common.writes.kept_back()` the writes here are collected and sent together.

On PostgreSQL the kept reads go through `kept_cursor`: their parameters travel apart from
the statement, so that psycopg prepares each statement on its connection once it has
been sent a few times, and the server stops parsing and planning it for every read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

from .writes import pending


def kept_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for a statement sent again and again with new parameters.

    On PostgreSQL it binds its parameters on the server (Django's cursors put them into
    the statement's text), so the text is the same on every call and psycopg prepares it
    on the connection from its `prepare_threshold`-th use on (5): the server keeps the
    parsed statement and its plan for as long as the connection lives. Only for reads
    whose best plan does not depend on the values (reads by key): a prepared statement
    may be given one plan for every value. Elsewhere, the usual cursor. Either way it is
    Django's cursor wrapper, so the statement is counted and logged like any other."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg import postgres
    from psycopg.pq import Format

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = cast(Any, ServerBindingCursor)(connection.connection)
        # as Django's own cursors: the connection's time zone for timestamps read
        loader = connection.connection.adapters.get_loader(
            postgres.types["timestamptz"].oid, Format.TEXT
        )
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, raw)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _KeptDebugCursor(raw, connection)
    return connection.make_cursor(cast(Any, raw))


class _KeptDebugCursor(CursorDebugWrapper):
    """Logs a kept statement with its values written in (as Django's own cursors log
    theirs): a statement bound on the server knows only its `$1` placeholders."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def one(rows: QuerySet[Any, Any]) -> Any:
    """The row of a lookup that finds at most one (by key), or None. Unlike `.first()` it
    adds no ORDER BY: building that clause for each read was a fifth of the worker's time
    per fired timer or clock, and a lookup by key has nothing to order."""
    return next(iter(rows.order_by()[:1]), None)


# Stand-ins for the parameters while a statement is built: numbers no key ever has, so
# each is found in the built statement's parameters exactly where its value goes.
_STAND_INS = tuple(-7_340_000_000_000 - n for n in range(24))


class _Compiled:
    __slots__ = (
        "compiler",
        "converters",
        "end",
        "fixed",
        "init_list",
        "related",
        "slots",
        "sql",
        "start",
    )

    def __init__(self, rows: QuerySet[Any, Any], arity: int, alias: str):
        compiler = rows.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        # (a text column's filter turns its stand-in into text: found as that too)
        slots = [
            [i for i, p in enumerate(params) if p in (_STAND_INS[n], str(_STAND_INS[n]))]
            for n in range(arity)
        ]
        if any(len(found) != 1 for found in slots):
            raise ValueError("each parameter of a prepared read must appear once in it")
        self.sql, self.fixed = sql, list(params)
        self.slots = [found[0] for found in slots]
        self.compiler = compiler
        self.converters = compiler.get_converters(
            [s[0] for s in compiler.select[0 : compiler.col_count]]
        )
        info = compiler.klass_info
        assert info is not None, "a prepared read gives model instances"
        self.start, self.end = info["select_fields"][0], info["select_fields"][-1] + 1
        self.init_list = [f[0].target.attname for f in compiler.select[self.start : self.end]]
        self.related = get_related_populators(info, compiler.select, alias)  # type: ignore[call-arg]


class Prepared:
    """A read by key that the worker makes for every item it handles, built by the ORM
    once per database connection, then run with new parameters.

    `build(*args)` returns the query set (its parameters only in filters, each used once);
    calling the prepared read gives its model instances, with what `select_related` and
    `annotate` added, exactly as iterating the query set would. A query set that locks
    (`select_for_update`) must be prepared and run inside a transaction, as the ORM's.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], arity: int = 1):
        self._build, self._arity = build, arity
        self._local = threading.local()

    @property
    def model(self) -> type[models.Model]:
        """The model this read gives instances of (for choosing its database)."""
        model = self.__dict__.get("_model")
        if model is None:
            model = self._model = self._build(*_STAND_INS[: self._arity]).model
        return cast(type[models.Model], model)

    def _compiled(self, alias: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("by_alias", {})
        compiled = cache.get(alias)
        if compiled is None:
            rows = self._build(*_STAND_INS[: self._arity]).using(alias)
            compiled = cache[alias] = _Compiled(rows, self._arity, alias)
        return cast(_Compiled, compiled)

    def __call__(self, *args: Any, using: str = "default") -> list[Any]:
        compiled = self._compiled(using)
        params = list(compiled.fixed)
        for slot, value in zip(compiled.slots, args, strict=True):
            params[slot] = value
        with kept_cursor(connections[using]) as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if not fetched:
            return []
        compiler = compiled.compiler
        model = compiler.klass_info["model"]
        rows = (
            compiler.apply_converters(fetched, compiled.converters)
            if compiled.converters
            else fetched
        )
        found = []
        for row in rows:
            obj = model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.related:
                populator.populate(row, obj)
            for name, position in compiler.annotation_col_map.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def one(self, *args: Any, using: str = "default") -> Any:
        rows = self(*args, using=using)
        return rows[0] if rows else None


class _Insert:
    __slots__ = ("auto_pk", "columns", "fields", "head", "returns", "row", "sql")

    def __init__(self, model: type[models.Model], alias: str):
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = model._meta
        self.fields = [
            f
            for f in meta.concrete_fields
            if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        self.columns = [str(f.column) for f in self.fields]
        # a key the database gives (an AutoField); None: the key is one of `fields`
        self.auto_pk = None if meta.pk in self.fields else str(meta.pk.column)
        columns = ", ".join(quote(c) for c in self.columns)
        self.row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        table = quote(meta.db_table)
        # (names from the model's own metadata, quoted; the values are parameters)
        self.head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
        self.sql = self.head + self.row
        self.returns = connection.features.can_return_columns_from_insert
        if self.returns:
            self.sql += f" RETURNING {quote(str(meta.pk.column))}"


_inserts: dict[tuple[str, type[models.Model]], _Insert] = {}


def _insert_of(model: type[models.Model], using: str) -> _Insert:
    insert = _inserts.get((using, model))
    if insert is None:
        insert = _inserts[(using, model)] = _Insert(model, using)
    return insert


def insert_row(obj: models.Model, *, using: str = "default") -> None:
    """Insert the new `obj` from a kept statement and set its primary key: what `save()`
    does for a new row (field defaults and `auto_now_add` included), without building the
    statement each time. No signals are sent, so use it only for models nobody listens
    to, and only where `save()` adds nothing of the model's own."""
    insert = _insert_of(type(obj), using)
    connection = connections[using]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in insert.fields]
    writes = pending(using)
    if writes is not None:  # kept back (common/writes.py): the key is taken now
        model = type(obj)
        if insert.auto_pk is None:
            writes.insert(model, insert.columns, [params], obj.pk)
        else:
            obj.pk = writes.new_key(model)
            writes.insert(model, [insert.auto_pk, *insert.columns], [[obj.pk, *params]], obj.pk)
        obj._state.adding = False
        obj._state.db = using
        return
    with connection.cursor() as cursor:
        cursor.execute(insert.sql, params)
        pk = cursor.fetchone()[0] if insert.returns else cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


def insert_rows(objs: list[models.Model], *, using: str = "default") -> None:
    """Insert new rows of one model in one statement (what `bulk_create` does), without
    reading their keys back: for rows nobody refers to once written (outbox items)."""
    if not objs:
        return
    insert = _insert_of(type(objs[0]), using)
    connection = connections[using]
    writes = pending(using)
    if writes is not None and insert.auto_pk is not None:  # (kept back: common/writes.py)
        rows = [
            [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in insert.fields]
            for obj in objs
        ]
        writes.insert(type(objs[0]), insert.columns, rows, None)
        return
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in insert.fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(insert.head + ", ".join([insert.row] * len(objs)), params)


_updates: dict[
    tuple[str, type[models.Model], tuple[str, ...]], tuple[str, list[models.Field[Any, Any]]]
] = {}


def update_row(obj: models.Model, names: tuple[str, ...], *, using: str = "default") -> None:
    """Write the fields `names` (attribute names) of the stored `obj` by its primary key,
    from a kept statement: what `save(update_fields=...)` does, without building the
    statement each time. No signals are sent (see `insert_row`)."""
    key = (using, type(obj), names)
    kept = _updates.get(key)
    connection = connections[using]
    if kept is None:
        quote = connection.ops.quote_name
        meta = obj._meta
        fields = [cast(models.Field[Any, Any], meta.get_field(name)) for name in names]
        sets = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
        table, pk = quote(meta.db_table), quote(str(meta.pk.column))
        # (names from the model's own metadata, quoted; the values are parameters)
        sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
        kept = _updates[key] = (sql, fields)
    sql, fields = kept
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    writes = pending(using)
    if writes is not None:  # kept back (common/writes.py)
        writes.update(
            type(obj),
            obj.pk,
            {str(f.column): (f, p) for f, p in zip(fields, params, strict=True)},
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])


def fields_of(model: type[models.Model]) -> tuple[str, ...]:
    """Every stored field of `model` but its primary key: for `update_row` of a whole row."""
    return tuple(f.attname for f in model._meta.concrete_fields if not f.primary_key)


_deletes: dict[tuple[str, type[models.Model]], str] = {}


def delete_row(model: type[models.Model], pk: Any, *, using: str = "default") -> int:
    """Delete the row of `model` with primary key `pk` from a kept statement; how many
    rows went (0 or 1; -1 while writes are kept back, see common/writes.py: not known
    yet). Only for rows nothing refers to and nobody listens to: no cascade and no
    signals, which is what makes it cheap."""
    writes = pending(using)
    if writes is not None:
        writes.delete(model, pk)
        return -1
    key = (using, model)
    sql = _deletes.get(key)
    connection = connections[using]
    if sql is None:
        quote = connection.ops.quote_name
        table, column = quote(model._meta.db_table), quote(str(model._meta.pk.column))
        sql = _deletes[key] = f"DELETE FROM {table} WHERE {column} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return int(cursor.rowcount)
