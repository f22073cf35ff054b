"""Modules stay small enough to read in one sitting."""

from pathlib import Path

LIMIT = 600


def test_no_module_is_too_big():
    root = Path(__file__).resolve().parent.parent / "casedesk"
    too_big = {
        str(p.relative_to(root)): n
        for p in root.rglob("*.py")
        if "migrations" not in p.parts and (n := sum(1 for _ in p.open(encoding="utf-8"))) > LIMIT
    }
    assert not too_big, f"split these: {too_big}"
