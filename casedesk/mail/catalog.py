"""The mail app's translations: its .po files compiled to .mo in pure Python (a fresh
machine has no msgfmt), and the msgids its code uses. `python -m casedesk.mail.catalog`
compiles every .po; a test checks the committed .mo files are current and complete."""

from __future__ import annotations

import ast
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCALE = HERE / "locale"
LANGUAGES = ("da", "nl", "cs", "sv")


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a simple .po file (no plurals or contexts); fuzzy entries are
    returned with a '#fuzzy ' prefix on the msgstr, so a check can refuse them."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    fuzzy = False
    target = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            msgid, target = _unquote(line[6:]), "id"
        elif line.startswith("msgstr "):
            msgstr, target = _unquote(line[7:]), "str"
        elif line.startswith('"'):
            if target == "id":
                msgid += _unquote(line)
            else:
                msgstr += _unquote(line)
        elif not line and msgid is not None:
            entries[msgid] = ("#fuzzy " if fuzzy else "") + (msgstr or "")
            msgid = msgstr = target = None
            fuzzy = False
    return entries


def mo_bytes(entries: dict[str, str]) -> bytes:
    """GNU .mo data, keys sorted, as msgfmt writes it (without a hash table)."""
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    count = len(keys)
    start = 7 * 4 + 16 * count
    offsets, pos = [], 0
    for k in keys:
        offsets.append((len(k.encode()), start + pos))
        pos += len(k.encode()) + 1
    str_offsets, pos = [], 0
    for k in keys:
        value = entries[k].encode()
        str_offsets.append((len(value), start + len(ids) + pos))
        pos += len(value) + 1
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, 0)
    table = b"".join(struct.pack("<2I", *o) for o in offsets)
    table += b"".join(struct.pack("<2I", *o) for o in str_offsets)
    return header + table + ids + strs


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def compile_all() -> None:
    for lang in LANGUAGES:
        entries = read_po(po_path(lang))
        po_path(lang).with_suffix(".mo").write_bytes(mo_bytes(entries))


def used_msgids() -> set[str]:
    """Every string passed to gettext (`_`) in the mail app's code."""
    found: set[str] = set()
    for path in HERE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "gettext")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


if __name__ == "__main__":
    compile_all()
