"""Shared fixtures: a controllable clock and a small world of two organisations.

Tests marked `postgres` need PostgreSQL's row locks; on SQLite they are skipped with a
reason, and `python3 dev.py test` runs them in its PostgreSQL pass. With
CASEDESK_NO_SKIP=1 any skipped test fails the run; CASEDESK_NO_SKIP_ON_POSTGRES=1 (set by
CI) does the same in the PostgreSQL pass, where nothing may be skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings

from casedesk.common import clock as clock_module

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
_skipped: list[str] = []


def pytest_collection_modifyitems(config, items):
    if POSTGRES:
        return
    where = (
        "runs in the PostgreSQL pass of `python3 dev.py test` "
        "(set DATABASE_URL=postgres://... to run it alone)"
    )
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            why = marker.kwargs.get("reason", "needs PostgreSQL (row locks, SKIP LOCKED)")
            item.add_marker(pytest.mark.skip(reason=f"{why}; {where}"))


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    strict = os.environ.get("CASEDESK_NO_SKIP") == "1" or (
        POSTGRES and os.environ.get("CASEDESK_NO_SKIP_ON_POSTGRES") == "1"
    )
    if strict and _skipped:
        print(f"\nCASEDESK_NO_SKIP=1 but {len(_skipped)} test(s) were skipped:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _connections_kept_in_the_test_transaction(monkeypatch):
    """The worker runs django-tasks' `db_worker`, which closes obsolete connections between
    tasks, as a request does; inside a test's transaction a connection looks obsolete
    (autocommit is off), so, as Django's test client does for requests, it is kept."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    original = BaseDatabaseWrapper.close_if_unusable_or_obsolete

    def close_unless_in_a_transaction(self):
        if not self.in_atomic_block:
            original(self)

    monkeypatch.setattr(
        BaseDatabaseWrapper, "close_if_unusable_or_obsolete", close_unless_in_a_transaction
    )


@pytest.fixture(autouse=True)
def _app_consumers_off():
    """The apps' outbox consumers (webhooks, later mail) stay off unless a test asks for
    them with `app_consumers`, so the other tests' counts of worker work stay their own."""
    from casedesk.tickets import outbox

    saved = dict(outbox.CONSUMERS)
    outbox.CONSUMERS.clear()
    yield saved
    outbox.CONSUMERS.clear()
    outbox.CONSUMERS.update(saved)


@pytest.fixture
def app_consumers(_app_consumers_off):
    """Turn the consumers the apps registered at start-up back on."""
    from casedesk.tickets import outbox

    outbox.CONSUMERS.update(_app_consumers_off)
    return outbox.CONSUMERS


@pytest.fixture
def clock():
    with clock_module.frozen(T0) as frozen:
        yield frozen


@dataclass
class World:
    desk: object
    other_desk: object
    org_a: object
    org_b: object
    alice: object  # customer member of A, the usual reporter
    amir: object  # colleague of Alice (member of A)
    anna: object  # approver of A
    ada: object  # organisation admin of A
    bob: object  # customer of B
    agent: object  # agent on desk
    lead: object  # lead on desk
    outsider: object  # agent on other_desk only
    admin: object  # superuser


def make_desk(preset: str, prefix: str, orgs, staff: dict | None = None):
    from casedesk.desks.models import StaffMembership
    from casedesk.desks.services import desk_create, preset_store

    desk = desk_create(
        name=f"{preset} desk {prefix}", key_prefix=prefix, workflow=preset_store(preset)
    )
    desk.organisations.set(orgs)
    for user, role in (staff or {}).items():
        StaffMembership.objects.create(desk=desk, user=user, role=role)
    return desk


def make_customer(username: str, org, role: str = "member"):
    from casedesk.accounts.models import User

    return User.objects.create_user(
        username,
        f"{username}@example.org",
        "pw-12345678",
        kind="customer",
        organisation=org,
        customer_role=role,
    )


def make_staff(username: str):
    from casedesk.accounts.models import User

    return User.objects.create_user(
        username, f"{username}@supplier.example", "pw-12345678", kind="staff"
    )


@pytest.fixture
def world(db, clock) -> World:
    from casedesk.accounts.models import Organisation, User

    org_a = Organisation.objects.create(name="Org A", slug="org-a")
    org_b = Organisation.objects.create(name="Org B", slug="org-b")
    agent, lead, outsider = make_staff("agent"), make_staff("lead"), make_staff("outsider")
    desk = make_desk("default", "GEN", [org_a, org_b], {agent: "agent", lead: "lead"})
    other = make_desk("default", "OTH", [org_a], {outsider: "agent"})
    admin = User.objects.create_superuser("admin", "admin@supplier.example", "pw-12345678")
    return World(
        desk=desk,
        other_desk=other,
        org_a=org_a,
        org_b=org_b,
        alice=make_customer("alice", org_a),
        amir=make_customer("amir", org_a),
        anna=make_customer("anna", org_a, "approver"),
        ada=make_customer("ada", org_a, "org_admin"),
        bob=make_customer("bob", org_b),
        agent=agent,
        lead=lead,
        outsider=outsider,
        admin=admin,
    )


@pytest.fixture
def ticket(world):
    from casedesk.tickets.services import ticket_create

    return ticket_create(
        actor=world.alice, desk=world.desk, title="Printer on fire", description="Smoke everywhere"
    )
