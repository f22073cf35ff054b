#!/usr/bin/env python3
"""Set up and run Casedesk from a checkout, with nothing but Python 3.11+.

    python3 dev.py run     # install into .venv, migrate, load demo data, start web + worker
    python3 dev.py test    # install into .venv, run the whole test suite

Both create `.venv` next to this file on first use and reinstall when pyproject.toml
changes. Extra arguments are passed on (`python3 dev.py test -k timers`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".casedesk-installed"


def python() -> str:
    return str(BIN / ("python.exe" if os.name == "nt" else "python"))


def ensure_installed() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Casedesk needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Casedesk and its test tools into .venv ...", flush=True)
    subprocess.run(
        [
            python(),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[test]",
        ],
        check=True,
    )
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    ensure_installed()
    env = dict(os.environ)
    env.setdefault("CASEDESK_DATA_DIR", str(ROOT / "var"))
    command, rest = argv[0], argv[1:]
    if command == "run":
        args = [str(BIN / "casedesk"), "run", *rest]
    else:
        args = [python(), "-m", "pytest", *rest]
    return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
