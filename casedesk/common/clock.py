"""The one source of 'now'. Tests move it; nothing else calls datetime.now()."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _source()


class FrozenClock:
    """A clock that stands still until moved."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@contextmanager
def frozen(start: datetime) -> Iterator[FrozenClock]:
    global _source
    clock = FrozenClock(start)
    previous, _source = _source, clock
    try:
        yield clock
    finally:
        _source = previous
