"""Upgrades without downtime (README "Upgrading"): no migration may hold a lock on an
existing table for longer than a moment. Every migration's SQL on PostgreSQL (what
`sqlmigrate` prints) is read statement by statement; a statement that rewrites or scans
an existing table, or builds an index on one while writes wait, fails the test with the
way to do it instead. Tables a migration creates itself are empty, so anything goes there.

The few migrations released before this check that break a rule are listed in
BEFORE_THE_CHECK: they ran on small tables already, and a released migration is never
edited."""

from __future__ import annotations

import re

import pytest
from django.db import connection, models
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.postgres(reason="reads the SQL that migrations run on PostgreSQL")

RULES = [
    (
        re.compile(r'^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)"?\w+"? ON "(\w+)"', re.I),
        "builds an index while every write to the table waits: use "
        "django.contrib.postgres.operations.AddIndexConcurrently in a migration with "
        "atomic = False (for a ForeignKey: db_index=False, then that)",
    ),
    (
        re.compile(r'^ALTER TABLE "(\w+)" ALTER COLUMN "\w+" TYPE', re.I),
        "rewrites the whole table under an exclusive lock: add a new column, fill it in "
        "batches, then switch over in a later release",
    ),
    (
        re.compile(r'^ALTER TABLE "(\w+)" ALTER COLUMN "\w+" SET NOT NULL', re.I),
        "scans the whole table under an exclusive lock: add a CHECK (... IS NOT NULL) NOT "
        "VALID constraint, VALIDATE it, then set NOT NULL",
    ),
    (
        re.compile(r'^ALTER TABLE "(\w+)" ADD COLUMN (?:(?!DEFAULT).)* NOT NULL', re.I | re.S),
        "adds a NOT NULL column without a default, which fails on a table with rows: give "
        "it db_default, or make it nullable",
    ),
    (
        re.compile(
            r'^ALTER TABLE "(\w+)" ADD CONSTRAINT "\w+" (?:CHECK|FOREIGN KEY|UNIQUE)'
            r"(?!.*NOT VALID)",
            re.I | re.S,
        ),
        "checks every row under a lock: add the constraint NOT VALID and VALIDATE it apart "
        "(a UNIQUE one from an index built concurrently)",
    ),
]

# Released before this check, and each locks a table as the rules say: they ran when the
# tables were still small. Every other migration is checked.
BEFORE_THE_CHECK = {
    "accounts.0002_organisation_holds_strangers",
    "mail.0003_outbound_mail_is_a_durable_job",
    "tickets.0005_timer_warning",
    "tickets.0006_outbox_and_timers_are_durable_jobs",
    "tickets.0008_ticket_active_list_indexes",
    # written beside the check, before either was released; the next index on tickets
    # is built concurrently
    "tickets.0009_ticket_sla_times",
    "api.0004_deploy_scope",
}

CREATED = re.compile(r'^CREATE TABLE "(\w+)"', re.I)


def problems_in(statements: list[str], created: set[str] | None = None) -> list[str]:
    """What in these statements locks an existing table for long."""
    created = set(created or ())
    found = []
    for sql in statements:
        sql = sql.strip()
        table = CREATED.match(sql)
        if table:
            created.add(table.group(1))
            continue
        for rule, fix in RULES:
            match = rule.match(sql)
            if match and match.group(1) not in created:
                found.append(f"{sql[:120]}: {fix}")
                break
    return found


def _ours(app: str) -> bool:
    from django.apps import apps

    config = apps.get_app_config(app)
    return config.name.startswith("casedesk.")


def test_no_migration_locks_an_existing_table_for_long(db):
    loader = MigrationLoader(connection, replace_migrations=False)
    unchecked = []
    checked = 0
    for (app, name), migration in loader.graph.nodes.items():
        if not _ours(app) or f"{app}.{name}" in BEFORE_THE_CHECK:
            continue
        checked += 1
        statements = loader.collect_sql([(migration, False)])
        for problem in problems_in(statements):
            unchecked.append(f"{app}.{name}: {problem}")
    assert checked >= 20  # every other migration of ours
    assert not unchecked, "\n".join(unchecked)


def _sql(do) -> list[str]:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        do(editor)
    return editor.collected_sql


def test_the_check_knows_each_kind_of_long_lock(db):
    from django.contrib.postgres.indexes import BTreeIndex

    from casedesk.tickets.models import Ticket

    def field(f: models.Field, name: str) -> models.Field:
        f.set_attributes_from_name(name)
        f.model = Ticket
        return f

    index = BTreeIndex(fields=["title"], name="ticket_title_probe")
    bad = {
        "index": _sql(lambda e: e.add_index(Ticket, index)),
        "type": _sql(
            lambda e: e.alter_field(
                Ticket,
                Ticket._meta.get_field("title"),
                field(models.TextField(), "title"),
            )
        ),
        "not null column": _sql(
            lambda e: e.add_field(Ticket, field(models.IntegerField(null=False), "probe"))
        ),
        "check": _sql(
            lambda e: e.add_constraint(
                Ticket,
                models.CheckConstraint(condition=models.Q(version__gte=0), name="probe_check"),
            )
        ),
    }
    for kind, statements in bad.items():
        assert problems_in(statements), (kind, statements)
    good = {
        "concurrent index": _sql(lambda e: e.add_index(Ticket, index, concurrently=True)),
        "nullable column": _sql(
            lambda e: e.add_field(Ticket, field(models.IntegerField(null=True), "probe"))
        ),
        "column with a default": _sql(
            lambda e: e.add_field(Ticket, field(models.IntegerField(db_default=0), "probe"))
        ),
    }
    for kind, statements in good.items():
        assert not problems_in(statements), (kind, statements)
    # the same statements on a table made in the same migration are fine
    assert not problems_in(bad["index"], created={Ticket._meta.db_table})
