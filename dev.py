#!/usr/bin/env python3
"""Set up and run Casedesk from a checkout, with nothing but Python 3.11+.

    python3 dev.py run     # install into .venv, migrate, load demo data, start web + worker
    python3 dev.py test    # install into .venv, run the whole test suite

Both create `.venv` next to this file on first use and reinstall when pyproject.toml
changes. Extra arguments are passed on (`python3 dev.py test -k timers`).

`test` runs the suite twice: on SQLite (the embedded default), then on PostgreSQL when
one is reachable: CASEDESK_TEST_POSTGRES_URL, or DATABASE_URL if it is a postgres URL, or
postgres://postgres@127.0.0.1:5432/postgres. Without one, the PostgreSQL pass is skipped
with a message; CASEDESK_REQUIRE_POSTGRES=1 (set by CI) makes that a failure.

`lint` (used by CI) runs ruff, mypy (settings in pyproject.toml), the import contracts
and the workflow checks.
`messages` updates the translation catalogues of the pages and compiles them.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlparse

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


def postgres_url() -> str | None:
    """A PostgreSQL server to run the second test pass on, if one answers."""
    url = os.environ.get("CASEDESK_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 2):
            return url
    except OSError:
        return None


def run_tests(rest: list[str], env: dict[str, str]) -> int:
    sqlite_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    print("== Test pass 1/2: SQLite (the embedded default)", flush=True)
    first = subprocess.run([python(), "-m", "pytest", *rest], cwd=ROOT, env=sqlite_env, check=False)
    url = postgres_url()
    if url is None:
        message = (
            "== Test pass 2/2: PostgreSQL: no server answered (set CASEDESK_TEST_POSTGRES_URL); "
            "the tests that need row locks were skipped in pass 1 and did not run."
        )
        print(message, flush=True)
        if env.get("CASEDESK_REQUIRE_POSTGRES") == "1":
            print("CASEDESK_REQUIRE_POSTGRES=1: failing because PostgreSQL is missing.")
            return 1
        return first.returncode
    print(f"== Test pass 2/2: PostgreSQL at {urlparse(url).hostname}", flush=True)
    # One test database per checkout, so two checkouts can test at the same time.
    suffix = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    pg_env = {**env, "DATABASE_URL": url, "CASEDESK_TEST_DATABASE": f"test_casedesk_{suffix}"}
    second = subprocess.run([python(), "-m", "pytest", *rest], cwd=ROOT, env=pg_env, check=False)
    return first.returncode or second.returncode


def lint() -> int:
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
        [str(BIN / "casedesk"), "workflows", "check"],
    ]
    for step in steps:
        print(
            "==",
            " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)),
            flush=True,
        )
        if subprocess.run(step, cwd=ROOT, check=False).returncode:
            return 1
    return 0


COMPILE = """
import glob, polib
for po in glob.glob("casedesk/*/locale/*/LC_MESSAGES/django.po"):
    polib.pofile(po).save_as_mofile(po[:-3] + ".mo")
"""


def messages(env: dict[str, str]) -> int:
    """Update the page catalogues from the code (needs xgettext), then compile them all
    with polib, so the committed .mo files match; translate new strings in between."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "casedesk.settings"}
    for app in ("web", "portal", "agent", "mail", "api", "sheets"):
        step = [str(BIN / "django-admin"), "makemessages", "-e", "html,txt,py"]
        step += ["--no-location", "--no-obsolete", "-l", "da", "-l", "nl", "-l", "cs", "-l", "sv"]
        if subprocess.run(step, cwd=ROOT / "casedesk" / app, env=env, check=False).returncode:
            return 1
    return subprocess.run([python(), "-c", COMPILE], cwd=ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "lint", "messages"):
        print(__doc__)
        return 2
    ensure_installed()
    env = dict(os.environ)
    env.setdefault("CASEDESK_DATA_DIR", str(ROOT / "var"))
    command, rest = argv[0], argv[1:]
    if command == "lint":
        return lint()
    if command == "messages":
        return messages(env)
    if command == "test":
        return run_tests(rest, env)
    return subprocess.run(
        [str(BIN / "casedesk"), "run", *rest], cwd=ROOT, env=env, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
