"""A database of a test's own on the PostgreSQL server the suite runs on, dropped after."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.conf import settings


def server() -> dict:
    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db.get("PASSWORD") or None,
    }


def connect(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(**server(), dbname=dbname, autocommit=True)


@pytest.fixture
def database():
    """(name, DATABASE_URL) of a new empty database."""
    name = f"casedesk_ops_{uuid.uuid4().hex[:10]}"
    with connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    s = server()
    password = f":{s['password']}" if s["password"] else ""
    yield name, f"postgres://{s['user']}{password}@{s['host']}:{s['port']}/{name}"
    with connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
