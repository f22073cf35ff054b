"""Business time: when a desk is open, and how much open time lies between two instants.

A `Calendar` is an IANA time zone, weekly opening hours (any number of intervals a day,
up to 24:00; an interval across midnight is split when the calendar is made), dated
exceptions that replace a day's hours (a public holiday is a day with none, a short day
has shorter ones, a manual closure likewise), or `always` for a true 24x7 desk.

The arithmetic works in UTC instants and is computed day by day in the calendar's zone,
so daylight-saving changes come out right: each local opening interval is turned into an
instant range once, a wall-clock time that does not exist (the hour skipped in spring)
reads as the same wall-clock distance after the change, and a doubled one (autumn) as its
first occurrence. A desk open 00:00-24:00 is therefore open 23 hours on the spring day
and 25 on the autumn one, and a `always` calendar is wall-clock time with no gap at all.

Pure Python, like the rest of the engine: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MINUTES = 24 * 60
# How far ahead to look for open time before deciding a calendar never opens.
HORIZON_DAYS = 5 * 366

Hours = tuple[tuple[int, int], ...]  # (start, end) in minutes after local midnight


class CalendarError(ValueError):
    """A calendar that cannot be: a code and its parameters, words chosen by the caller."""

    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.code = code
        self.params = params


def _check_hours(hours: Hours, where: str) -> Hours:
    ordered = tuple(sorted(hours))
    for start, end in ordered:
        if not (0 <= start < end <= DAY_MINUTES):
            raise CalendarError("calendar.interval_invalid", where=where, start=start, end=end)
    for (_, end), (start, _) in pairwise(ordered):
        if start < end:
            raise CalendarError("calendar.intervals_overlap", where=where)
    return ordered


@dataclass(frozen=True)
class Calendar:
    zone: str
    week: tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours] = ((),) * 7  # Monday first
    exceptions: Mapping[date, Hours] = field(default_factory=dict)
    always: bool = False

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError("calendar.zone_unknown", zone=self.zone) from None
        if len(self.week) != 7:
            raise CalendarError("calendar.week_length", days=len(self.week))
        week = tuple(_check_hours(h, str(i)) for i, h in enumerate(self.week))
        object.__setattr__(self, "week", week)
        exceptions = {d: _check_hours(h, d.isoformat()) for d, h in self.exceptions.items()}
        object.__setattr__(self, "exceptions", exceptions)
        if not self.always and not any(week):
            raise CalendarError("calendar.never_open")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def hours_on(self, day: date) -> Hours:
        """The local opening hours of one day (its exception if it has one)."""
        if day in self.exceptions:
            return self.exceptions[day]
        return self.week[day.weekday()]


def weekly(
    zone: str,
    intervals: Mapping[int, list[tuple[str, str]]],
    exceptions: Mapping[date, list[tuple[str, str]]] | None = None,
) -> Calendar:
    """A calendar from readable hours: {0: [("08:00", "17:00")], ...} with Monday as 0;
    an interval that ends at or before it starts runs across midnight into the next day,
    and "24:00" is the end of the day."""
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for weekday, spans in intervals.items():
        for start_text, end_text in spans:
            start, end = _minutes(start_text), _minutes(end_text)
            if end > start:
                week[weekday].append((start, end))
            else:  # across midnight
                week[weekday].append((start, DAY_MINUTES))
                if end:
                    week[(weekday + 1) % 7].append((0, end))
    days = {
        day: tuple((_minutes(s), _minutes(e)) for s, e in spans)
        for day, spans in (exceptions or {}).items()
    }
    return Calendar(zone, tuple(tuple(h) for h in week), days)  # type: ignore[arg-type]


def always_open(zone: str) -> Calendar:
    return Calendar(zone, always=True)


def time_minutes(text: str) -> int:
    """Minutes after midnight of "HH:MM" (up to "24:00"); CalendarError otherwise."""
    return _minutes(text)


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise CalendarError("calendar.time_invalid", value=text) from None
    if not (0 <= value <= DAY_MINUTES) or not (0 <= int(minutes or 0) < 60):
        raise CalendarError("calendar.time_invalid", value=text)
    return value


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError("calendar.naive_time")
    return instant.astimezone(UTC)


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time: its first occurrence when the clock goes
    back; a time the clock skips reads as that far past the change (02:30 as 03:30)."""
    if minute == DAY_MINUTES:
        day, minute = day + timedelta(days=1), 0
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _spans_from(cal: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open instant ranges after `start`, in order and disjoint, the first clipped to
    begin at `start` (ranges may touch: one day's 24:00 is the next day's 00:00)."""
    tz = cal.tz
    day = start.astimezone(tz).date() - timedelta(days=1)  # a clock change may reach back
    last_end = start
    for _ in range(HORIZON_DAYS):
        for s, e in sorted((_at(day, a, tz), _at(day, b, tz)) for a, b in cal.hours_on(day)):
            s = max(s, last_end)
            if s < e:
                yield s, e
                last_end = e
        day += timedelta(days=1)
    raise CalendarError("calendar.never_open")


def add(cal: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant when `duration` of open time has passed since `start`."""
    start = _aware(start)
    if duration < timedelta(0):
        raise CalendarError("calendar.negative_duration")
    if cal.always or duration == timedelta(0):
        return start + duration
    left = duration
    for s, e in _spans_from(cal, start):
        if e - s >= left:
            return s + left
        left -= e - s
    raise CalendarError("calendar.never_open")  # not reached: _spans_from raises first


def between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """The open time from `a` to `b` (negative when `b` comes first)."""
    a, b = _aware(a), _aware(b)
    if b < a:
        return -between(cal, b, a)
    if cal.always:
        return b - a
    total = timedelta(0)
    for s, e in _spans_from(cal, a):
        if s >= b:
            break
        total += min(e, b) - s
    return total


def is_open(cal: Calendar, instant: datetime) -> bool:
    instant = _aware(instant)
    if cal.always:
        return True
    s, _ = next(_spans_from(cal, instant))
    return s <= instant


def next_open(cal: Calendar, instant: datetime) -> datetime:
    """`instant` itself if the desk is open then, else when it next opens."""
    instant = _aware(instant)
    if cal.always:
        return instant
    s, _ = next(_spans_from(cal, instant))
    return max(s, instant)


def calendar_to_data(cal: Calendar) -> dict[str, object]:
    """The calendar as plain data (JSON), minutes after local midnight."""
    return {
        "zone": cal.zone,
        "always": cal.always,
        "week": [[list(span) for span in day] for day in cal.week],
        "exceptions": {
            d.isoformat(): [list(span) for span in hours]
            for d, hours in sorted(cal.exceptions.items())
        },
    }


def calendar_from_data(data: Mapping[str, object]) -> Calendar:
    """The calendar of `calendar_to_data`, checked again as any calendar is."""
    week, exceptions = data["week"], data["exceptions"]
    if not isinstance(week, list) or not isinstance(exceptions, Mapping):
        raise CalendarError("calendar.data_invalid")
    return Calendar(
        zone=str(data["zone"]),
        week=tuple(tuple((int(a), int(b)) for a, b in day) for day in week),  # type: ignore[arg-type]
        exceptions={
            date.fromisoformat(d): tuple((int(a), int(b)) for a, b in hours)
            for d, hours in exceptions.items()
        },
        always=bool(data["always"]),
    )
