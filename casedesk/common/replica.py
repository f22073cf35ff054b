"""Reads that may come from a read replica (CASEDESK_REPLICA_URL, README "A read replica").

Only what is marked reads there: a view or block under `replica_reads()` (the status
guides, the invoice basis preview). Everything else, every write and every read in a
write's transaction, stays on the primary ("default"). Before the replica is used its
lag is asked (`pg_last_xact_replay_timestamp`), at most every few seconds per process;
a replica that lags more than CASEDESK_REPLICA_MAX_LAG_SECONDS, is not in recovery or
does not answer is passed over, and the reads go to the primary until it is fine again.
A replica that fails in the middle of a marked view is marked down and the view runs
again on the primary (marked views only read).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

log = logging.getLogger("casedesk.replica")
T = TypeVar("T")

REPLICA = "replica"
# How long one answer about the replica's lag holds, in seconds.
CHECK_EVERY = 5.0

_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("casedesk_replica", default=False)
_lock = threading.Lock()
_state: dict[str, Any] = {"at": float("-inf"), "usable": False, "lag": None, "why": "not asked"}

# Caught up with everything received is no lag only while WAL still arrives: a replica
# whose receiver is gone (its primary out of reach, a wrong primary_conninfo) has replayed
# all it got and would look current forever, so it is not used until it streams again.
# (A user without pg_read_all_stats sees the receiver's pid but not its status; a running
# receiver then counts as streaming.)
LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver
               WHERE pid IS NOT NULL AND (status IS NULL OR status = 'streaming')),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> tuple[float | None, str]:
    """(seconds the replica is behind, "") or (None, why it cannot be used). Caught up
    with everything it received counts as no lag while it streams (LAG_SQL)."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[REPLICA].close()
        return None, f"does not answer: {type(exc).__name__}: {str(exc).strip()[:200]}"
    if not in_recovery:
        return None, "is not a replica (not in recovery)"
    if not streaming:
        return None, "does not stream from its primary"
    return (float(lag) if lag is not None else None), "" if lag is not None else "has no lag"


def replica_status(*, fresh: bool = False) -> dict[str, Any]:
    """{"usable": bool, "lag": seconds or None, "why": why not}; asked again when older
    than CHECK_EVERY seconds (or `fresh`)."""
    if not replica_configured():
        return {"usable": False, "lag": None, "why": "not configured"}
    with _lock:
        if fresh or time.monotonic() - _state["at"] >= CHECK_EVERY:
            lag, why = replica_lag()
            limit = settings.CASEDESK_REPLICA_MAX_LAG_SECONDS
            if lag is not None and lag > limit:
                why = f"lags {lag:.1f} s (more than {limit:g} s)"
            usable = lag is not None and not why
            if usable != _state["usable"] or why != _state["why"]:
                if usable:
                    log.info("replica in use again (lag %.1f s)", lag)
                else:
                    log.warning("replica not used, reading from the primary: it %s", why)
            _state.update(at=time.monotonic(), usable=usable, lag=lag, why=why)
        return {k: _state[k] for k in ("usable", "lag", "why")}


def _mark_down(exc: BaseException) -> None:
    with _lock:
        _state.update(at=time.monotonic(), usable=False, lag=None, why=f"failed: {exc}")
    log.warning("replica failed in the middle of a read, reading from the primary: %s", exc)
    connections[REPLICA].close()


class reads_from_replica:
    """Reads in this block or view may come from the replica, when it is usable."""

    def __enter__(self) -> None:
        self._token = _reading.set(True)

    def __exit__(self, *exc: object) -> None:
        _reading.reset(self._token)

    def __call__(self, view: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return replica_read(lambda: view(*args, **kwargs))

        return wrapped


def replica_read(read: Callable[[], T]) -> T:
    """`read()` with its reads on the replica when it is usable; when the replica fails in
    the middle, it is marked down and `read()` runs again on the primary."""
    if not replica_configured():
        return read()
    try:
        with reads_from_replica():
            return read()
    except (OperationalError, InterfaceError) as exc:
        if not _state["usable"]:
            raise  # (the primary's own failure)
        _mark_down(exc)
    return read()


class ReplicaRouter:
    """DATABASE_ROUTERS when CASEDESK_REPLICA_URL is set."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        reading = _reading.get() and not connections["default"].in_atomic_block
        return REPLICA if reading and replica_status()["usable"] else None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"
