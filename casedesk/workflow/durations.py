"""Durations in workflow files: `8d`, `36h`, `90m`, `1d 12h`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    compact = text.strip().lower()
    parts = _PART.findall(compact)
    if not parts or _PART.sub("", compact).strip():
        raise DurationError(f"'{text}' is not a duration")
    total = timedelta()
    for amount, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta(0):
        raise DurationError(f"'{text}' is not longer than zero")
    if total > timedelta(days=3650):
        raise DurationError(f"'{text}' is longer than ten years")
    return total


def format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts) or "0m"
