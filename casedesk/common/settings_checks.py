"""Checks for the enumerated settings people choose from (time zones, languages, roles...).

The models run them on every save, so no code path stores a value the rest of Casedesk
cannot use (a mistyped time zone once stopped the mail of every desk); the admin offers
the same values as lists and shows a refused one as an error on its field.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.db import models

from .errors import invalid

# Files in the zone database that are not the names of places.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA time zone names this machine knows."""
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zone_names())]


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise invalid("time_zone.unknown", value=value[:64])


def language_codes() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def language_choices(*, blank: bool = False) -> list[tuple[str, str]]:
    choices = [(code, str(name)) for code, name in settings.LANGUAGES]
    return [("", "---------"), *choices] if blank else choices


def validate_language(value: str) -> None:
    if value not in language_codes():
        raise invalid("language.unknown", value=value[:20])


def check_on_save(
    instance: models.Model, names: Iterable[str], update_fields: Iterable[str] | None
) -> None:
    """Validate the named fields of `instance` as a form would (their validators and
    choices), or those of them a save limited to `update_fields` writes. Raises
    ValidationError with an error per field."""
    wanted = set(names) if update_fields is None else set(names) & set(update_fields)
    if not wanted:
        return
    others = [f.name for f in instance._meta.concrete_fields if f.name not in wanted]
    instance.clean_fields(exclude=others)
