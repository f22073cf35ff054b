"""Every string of the pages is translated into the four other languages, the committed
.mo files are exactly the compiled .po files (a fresh machine has no msgfmt), and the .po
files hold every string the code and templates use now."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2] / "casedesk"
APPS = ("web", "portal", "agent", "mail", "api", "sheets")
LANGS = [code for code, _ in settings.LANGUAGES if code != "en"]
CATALOGUES = [(app, lang) for app in APPS for lang in LANGS]


def _po(app: str, lang: str) -> Path:
    return ROOT / app / "locale" / lang / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize(("app", "lang"), CATALOGUES)
def test_every_string_is_translated(app, lang):
    po = polib.pofile(str(_po(app, lang)))
    assert po.metadata["Language"] == lang
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()]
    assert not po.obsolete_entries()
    for entry in po.translated_entries():
        if "python-format" in entry.flags and not entry.msgid_plural:
            import re

            names = sorted(re.findall(r"%\((\w+)\)", entry.msgid))
            assert sorted(re.findall(r"%\((\w+)\)", entry.msgstr)) == names, entry.msgid


@pytest.mark.parametrize(("app", "lang"), CATALOGUES)
def test_compiled_catalogue_matches_its_source(app, lang):
    """The .mo is the .po compiled: changing a .po without compiling it fails here."""
    po_path = _po(app, lang)
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.pofile(str(po_path)).translated_entries()
    }
    assert compiled == source
    assert mo.metadata.get("Plural-Forms") == polib.pofile(str(po_path)).metadata["Plural-Forms"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs xgettext (apt gettext)")
@pytest.mark.parametrize("app", APPS)
def test_catalogues_hold_every_string_in_use(app, tmp_path, monkeypatch):
    copy = tmp_path / app
    shutil.copytree(ROOT / app, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=["da"],
        extensions=["html", "txt", "py"],
        no_location=True,
        no_obsolete=True,
        verbosity=0,
    )
    fresh = polib.pofile(str(copy / "locale" / "da" / "LC_MESSAGES" / "django.po"))
    committed = polib.pofile(str(_po(app, "da")))
    wanted = {(e.msgctxt, e.msgid, e.msgid_plural) for e in fresh if not e.obsolete}
    have = {(e.msgctxt, e.msgid, e.msgid_plural) for e in committed}
    assert wanted - have == set(), "run `python3 dev.py messages` and translate the new strings"
    assert have - wanted == set(), "strings no longer used: run `python3 dev.py messages`"


@pytest.mark.parametrize("lang", LANGS)
def test_pages_speak_the_language(client, world, ticket, lang):
    client.force_login(world.alice)
    world.alice.language = lang
    world.alice.save()
    page = client.get(f"/portal/t/{ticket.key}/").content.decode()
    for english in ("Add a comment", "Conversation", "History", "Our turn", "Log out"):
        assert english not in page, (lang, english)
    assert f'lang="{lang}"' in page


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_menu_names_each_language_in_its_own_words(client, world, ticket, lang):
    """A reader looks for the name they know: "English", never "engelsk" or "Engels"."""
    import re

    client.force_login(world.alice)
    world.alice.language = lang
    world.alice.save()
    page = client.get(f"/portal/t/{ticket.key}/").content.decode()
    menu = re.search(r'<select id="lang-select".*?</select>', page, re.S).group(0)
    names = re.findall(r'lang="(\w+)"[^>]*>([^<]+)</option>', menu)
    assert names == list(settings.LANGUAGES)


def test_labels_read_as_written_in_the_language_not_translated_from_english():
    """Word-for-word renderings people stumbled over stay out of the catalogues."""
    calques = {
        "da": ("Mail jeg får", "sagsnøgle"),
        "sv": ("ärendenyckel", "E-post jag får"),
        "cs": ("Dále",),
        "nl": ("Mail die ik krijg",),
    }
    for app in APPS:
        for lang, words in calques.items():
            for entry in polib.pofile(str(_po(app, lang))).translated_entries():
                for word in words:
                    assert word not in entry.msgstr, (app, lang, entry.msgid, entry.msgstr)
