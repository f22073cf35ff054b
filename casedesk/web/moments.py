"""The times a page shows, in the reader's zone and language: Django's `date_format`,
with each format parsed and its month names translated once per language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import dateformat, dates, formats, timezone, translation


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# What Django's date format letters give, for the letters our languages' DATE_FORMAT and
# DATETIME_FORMAT use; `names` holds the month names in the active language.
_LETTERS: dict[str, Callable[[datetime, dict[str, dict[int, str]]], str]] = {
    "j": lambda d, names: str(d.day),
    "Y": lambda d, names: f"{d.year:04d}",
    "G": lambda d, names: str(d.hour),
    "H": lambda d, names: f"{d.hour:02d}",
    "i": lambda d, names: f"{d.minute:02d}",
    "F": lambda d, names: names["F"][d.month],
    "E": lambda d, names: names["E"][d.month],
    "N": lambda d, names: names["N"][d.month],
}
_formatters: dict[tuple[str, str], Callable[[datetime], str]] = {}


def _formatter(name: str) -> Callable[[datetime], str]:
    """Django's `date_format(value, name)` for the active language, with the format
    parsed and the month names translated once per language rather than per value (each
    call of Django's parsed the format again and translated a lazy month name: some 30
    microseconds a time, and a list shows 50). Letters not in `_LETTERS` are Django's
    own, per value."""
    lang = translation.get_language() or ""
    key = (lang, name)
    found = _formatters.get(key)
    if found is not None:
        return found
    names = {
        "F": {m: str(v) for m, v in dates.MONTHS.items()},
        "E": {m: str(v) for m, v in dates.MONTHS_ALT.items()},
        "N": {m: str(v) for m, v in dates.MONTHS_AP.items()},
    }
    pieces: list[Callable[[datetime], str]] = []
    for i, piece in enumerate(dateformat.re_formatchars.split(str(formats.get_format(name)))):
        if i % 2:
            pieces.append(_letter(piece, names))
        elif piece:
            pieces.append(_literal(dateformat.re_escaped.sub(r"\1", piece)))

    def format_value(value: datetime) -> str:
        return "".join(p(value) for p in pieces)

    _formatters[key] = format_value
    return format_value


def _letter(letter: str, names: dict[str, dict[int, str]]) -> Callable[[datetime], str]:
    known = _LETTERS.get(letter)
    if known is None:

        def djangos(value: datetime) -> str:
            return str(dateformat.DateFormat(value).format(letter))

        return djangos

    def ours(value: datetime) -> str:
        return known(value, names)

    return ours


def _literal(text: str) -> Callable[[datetime], str]:
    def said(value: datetime) -> str:
        return text

    return said


@receiver(setting_changed)
def _forget_formats(*, setting: str, **kwargs) -> None:
    if setting.endswith("FORMAT") or setting in {"FORMAT_MODULE_PATH", "LANGUAGES"}:
        _formatters.clear()


def day(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return _formatter("DATE_FORMAT")(timezone.localtime(value, zone(tz)))


def moment(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return _formatter("DATETIME_FORMAT")(timezone.localtime(value, zone(tz)))


class Moments:
    """`moment` for one page: each distinct time is phrased once (a comment and its history
    entry share their time), in the format of the language active when it was made. Made
    per page and dropped with it."""

    def __init__(self, tz: str):
        self.tz = tz
        self._zone = zone(tz)
        self._format = _formatter("DATETIME_FORMAT")
        self._said: dict[datetime, str] = {}

    def __call__(self, value: datetime | None) -> str:
        if value is None:
            return ""
        text = self._said.get(value)
        if text is None:  # what `moment` says, with the zone and format found once
            local = timezone.localtime(value, self._zone)
            text = self._said[value] = self._format(local)
        return text
