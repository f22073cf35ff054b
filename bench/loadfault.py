"""Load and fault run: mixed customer, agent, API and mail traffic against two web
processes and two workers on one PostgreSQL database, with a worker and a web process
killed (SIGKILL) and started again in the middle; then the checks (nothing lost, nothing
doubled, every mail and webhook arrived) and p50/p99 per kind of request.

Everything runs on loopback; a fresh database is made on the server named and dropped
afterwards. The core is tests/ops/loadfault.py, which tests/ops/test_loadfault.py runs
for a shorter time in CI.

  .venv/bin/python bench/loadfault.py --seconds 60 \\
      --server postgres://postgres@127.0.0.1:5432/postgres

Prints a Markdown table; exits 1 if a check failed. See bench/README.md for results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from tests.ops.loadfault import Shape, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--server",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL; a database of the run's own is made there and dropped",
    )
    parser.add_argument("--pause", type=float, default=Shape.pause, help="after each change")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    name = f"casedesk_loadfault_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(args.server)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="casedesk-loadfault-") as folder:
            outcome = run(Path(folder), url, Shape(seconds=args.seconds, pause=args.pause))
    finally:
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"\n{outcome.seconds:.0f} s of traffic, whole run {time.monotonic() - began:.0f} s, "
        f"drained in {outcome.drain_seconds:.1f} s after the traffic stopped\n"
    )
    print(outcome.table())
    print("\nchecks:")
    for key, value in outcome.checks.items():
        print(f"  {key}: {json.dumps(value) if isinstance(value, dict) else value}")
    for problem in outcome.problems:
        print(f"PROBLEM: {problem}")
    print("\nall checks passed" if not outcome.problems else "\nCHECKS FAILED")
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
