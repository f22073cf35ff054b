"""Every error code is registered, raised somewhere, and said in all five languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from casedesk.common.codes import CODES, PLAIN
from casedesk.common.errors import Problem
from casedesk.web.messages import SENTENCES, say

ROOT = Path(__file__).resolve().parents[2] / "casedesk"
LANGS = [code for code, _ in settings.LANGUAGES if code != "en"]
CODE = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)+$")
# the calls whose string arguments are error codes
RAISERS = {
    "Problem",
    "Denied",
    "NotFound",
    "Forbidden",
    "InvalidInput",
    "CasedeskError",
    "Refused",
    "CalendarError",
    "FileRefused",
    "BadJson",
    "AuthenticationError",
    "AuthorizationError",
    "HttpError",
    "invalid",
}
# modules that only list or say codes
REGISTRY = {ROOT / "common" / "codes.py", ROOT / "web" / "messages.py"}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _strings(node: ast.AST):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _raised() -> dict[str, list[str]]:
    """Each dotted string passed to an error, or set as a code, with where it is."""
    found: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        if path in REGISTRY or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            texts: list[str] = []
            if isinstance(node, ast.Call) and _name(node.func) in RAISERS:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Dict):  # field -> code; the keys are fields
                        texts += [t for v in arg.values if v is not None for t in _strings(v)]
                    else:
                        texts += list(_strings(arg))
            for text in texts:
                if CODE.match(text):
                    found.setdefault(text, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


RAISED = _raised()


def _english(code: str) -> str:
    with translation.override("en"):
        return str(SENTENCES[code])


def test_every_code_raised_is_registered():
    unknown = {code: where for code, where in RAISED.items() if code not in CODES}
    assert not unknown, unknown


def test_every_registered_code_is_raised_somewhere():
    used = set(RAISED)
    # codes chosen by a value (`REQUIRED_BY_STATUS[which]`, `clean_text`) count as used
    # where their literal stands
    for path in ROOT.rglob("*.py"):
        if path not in REGISTRY:
            used |= {t for t in _strings(ast.parse(path.read_text())) if t in CODES}
    assert set(CODES) - used - {PLAIN} == set()


def test_every_code_has_an_english_sentence_naming_only_its_parameters():
    assert set(SENTENCES) == set(CODES)
    for code in SENTENCES:
        names = set(re.findall(r"%\((\w+)\)s", _english(code)))
        assert names <= set(CODES[code]), code


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_has_a_sentence_in_each_language(lang):
    po = polib.pofile(str(ROOT / "web" / "locale" / lang / "LC_MESSAGES" / "django.po"))
    entries = {e.msgid: e for e in po}
    missing = []
    for code in SENTENCES:
        msgid = _english(code)
        entry = entries.get(msgid)
        if entry is None or not entry.translated() or entry.fuzzy:
            missing.append(code)
            continue
        assert sorted(re.findall(r"%\((\w+)\)s", entry.msgstr)) == sorted(
            re.findall(r"%\((\w+)\)s", msgid)
        ), code
    assert not missing, missing


@pytest.mark.parametrize("lang", ["en", *LANGS])
def test_every_sentence_is_said_whole(lang):
    for code, names in CODES.items():
        problem = Problem(code, **dict.fromkeys(names, "X"))
        text = say(problem, lang)
        assert text and "%(" not in text, (code, lang)
        if lang != "en" and code != PLAIN:
            assert text != say(problem, "en"), (code, lang)


def test_nothing_reads_a_sentence_back():
    """Words are chosen at the edge and never parsed: no regular expression runs over an
    error's text, and no error has a `message` to run one over."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        if re.search(r"re\.\w+\([^)]*(exc|err|error|problem)\.(message|errors|detail)", text):
            offenders.append(str(path))
    assert not offenders
    assert not hasattr(Problem("input.required"), "message")
