"""Whether an error means the database cannot be reached just now (down, restarting, the
connection cut), as opposed to a fault in one statement. Such a request is answered 503
with the code `service.database_unavailable`, not as a fault of ours (500); the next
request connects again by itself."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# PostgreSQL's SQLSTATEs for a server going away or not there yet: the class of
# connection exceptions, and shutting down (admin, crash) or still starting
GOING_AWAY = {"57P01", "57P02", "57P03"}
UNAVAILABLE = "service.database_unavailable"
RETRY_AFTER = "10"  # seconds, in the answer's Retry-After


def database_unreachable(exc: BaseException | None) -> bool:
    for _ in range(5):  # the error itself, or what it was raised from
        if exc is None:
            return False
        if isinstance(exc, InterfaceError | OperationalError):
            cause = exc.__cause__
            if not type(cause).__module__.startswith("psycopg"):
                return False  # SQLite's locks and binding errors are not an outage
            if isinstance(exc, InterfaceError):  # the connection was closed under us
                return True
            state = getattr(cause, "sqlstate", None)
            # no SQLSTATE: the connection itself failed (refused, closed, timed out)
            return state is None or state.startswith("08") or state in GOING_AWAY
        exc = exc.__cause__ or exc.__context__
    return False
