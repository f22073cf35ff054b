"""The mail catalogue: complete in every language, and its committed .mo files current."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from casedesk.mail import catalog
from casedesk.mail.outbound import texts

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_every_sentence_is_translated_with_the_same_placeholders(lang):
    entries = catalog.read_po(catalog.po_path(lang))
    for msgid in catalog.used_msgids():
        assert msgid in entries, f"{lang}: missing {msgid!r}"
        translated = entries[msgid]
        assert translated and not translated.startswith("#fuzzy"), f"{lang}: {msgid!r}"
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid))
    assert set(entries) - {""} == catalog.used_msgids(), "entries no code uses any more"


@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_the_committed_mo_files_are_current(lang):
    po = catalog.po_path(lang)
    expected = catalog.mo_bytes(catalog.read_po(po))
    assert po.with_suffix(".mo").read_bytes() == expected, "run python -m casedesk.mail.catalog"


def test_mail_speaks_the_recipients_language():
    with translation.override("cs"):
        assert texts.greeting("Jana") == "Dobrý den, Jana,"
    with translation.override("da"):
        assert texts.headline("your_turn", key="TMS-1", status="Afventer") == (
            "TMS-1 venter på dig: Afventer."
        )
