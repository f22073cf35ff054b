"""Fixtures of the operations tests."""

from tests.ops.pgdb import database  # noqa: F401 (a fixture for the tests here)
