"""The page's times, phrased by a format parsed once per language, say exactly what
Django's `date_format` says, in every language, for every month and hour."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import formats, timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from casedesk.web import present

LANGS = ["en", "cs", "da", "nl", "sv"]
times = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1),
    max_value=datetime.datetime(2200, 12, 31),
    timezones=st.just(datetime.UTC),
)


@settings(max_examples=300, deadline=None)
@given(
    value=times,
    lang=st.sampled_from(LANGS),
    tz=st.sampled_from(["UTC", "Europe/Prague", "America/New_York"]),
)
def test_a_moment_says_what_django_says(value, lang, tz):
    with translation.override(lang):
        local = timezone.localtime(value, present.zone(tz))
        assert present.moment(value, tz) == formats.date_format(local, "DATETIME_FORMAT")
        assert present.day(value, tz) == formats.date_format(local, "DATE_FORMAT")
        assert present.Moments(tz)(value) == formats.date_format(local, "DATETIME_FORMAT")


@pytest.mark.parametrize("lang", LANGS)
def test_every_month_and_hour(lang):
    with translation.override(lang):
        for month in range(1, 13):
            for hour in range(24):
                for minute in (0, 1, 30, 59):
                    value = datetime.datetime(2026, month, 9, hour, minute, tzinfo=datetime.UTC)
                    expected = formats.date_format(value, "DATETIME_FORMAT")
                    assert present.moment(value, "UTC") == expected


def test_a_changed_format_is_seen():
    value = datetime.datetime(2026, 3, 9, 12, 0, tzinfo=datetime.UTC)
    with translation.override("en"):
        present.moment(value, "UTC")  # the English format is parsed and kept
        with override_settings(FORMAT_MODULE_PATH=None, USE_L10N=True, DATETIME_FORMAT=r"\Y Y"):
            assert present.moment(value, "UTC") == formats.date_format(value, "DATETIME_FORMAT")
        assert present.moment(value, "UTC") == "March 9, 2026, noon"
