"""Benchmark: pages over HTTP under concurrent clients, through `casedesk serve`.

Builds N tickets like bench/lists.py (skipped when they are there), signs the bench agent
and customer in (their session cookies), starts `casedesk serve` (gunicorn, `--processes`
x `--threads`) on loopback against the same database, and lets `--clients` threads, each
with its own keep-alive connection, ask for one page as fast as the server answers, for
`--seconds` after a warm-up. Prints requests per second, p50 and p99 latency and the
errors per page. Client and server share the machine's cores, as they do here.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/casedesk_http \\
    .venv/bin/python bench/web_load.py --size 1000000 --processes 2 --threads 2 --clients 8
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("CASEDESK_SECRET_KEY", "bench-http-" + "k" * 50)  # shared with serve
sys.path.insert(0, str(HERE))

from django.conf import settings
from django.db import connection
from django.test import Client
from lists import build  # sets Django up

CASEDESK = str(Path(sys.executable).with_name("casedesk"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cookie_of(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"casedesk serve stopped: {server.stdout.read() if server.stdout else ''}"
            )
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("casedesk serve did not answer /health")


def load(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    bad.append(str(answer.status))
            except (OSError, http.client.HTTPException) as exc:
                bad.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / took,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
        "requests": len(latencies),
        "errors": len(errors),
    }


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * WRK_UNITS[unit]


# counts every answer but a 200 in each wrk thread, and sums them at the end: wrk itself
# takes a redirect (to the sign-in page, say) for a success
WRK_STATUS_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) other = 0 end
function response(status, headers, body) if status ~= 200 then other = other + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("other") end
  io.write(string.format("Not 200: %d\\n", n))
end
"""


def load_wrk(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict:
    """The same load from wrk (C, epoll): its two threads cost the machine far less than
    Python clients do, so more of the two cores is left to the server."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_STATUS_SCRIPT)
    out = subprocess.run(
        [
            "wrk",
            "-s",
            script.name,
            "-t2",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "30s",
            "-H",
            f"Cookie: {cookie}",
            "-H",
            "Host: 127.0.0.1",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if os.environ.get("WRK_DEBUG"):
        print(out)
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"wrk printed no latency distribution:\n{out}")
    os.unlink(script.name)
    errors = int(re.search(r"Not 200: (\d+)", out).group(1))  # type: ignore[union-attr]
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    for n in re.findall(socket_errors, out):
        errors += sum(int(x) for x in n)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": wrk_ms(latency["50"]),
        "p99": wrk_ms(latency["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": errors,
    }


def server_cpu_seconds(master: int) -> float:
    """Processor time used so far by the server: its live processes (the gunicorn master
    and its workers, one process group) plus the workers already replaced, which the
    master has reaped into its children's time."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (field 3 of stat): pgrp is fields[2], utime fields[11]
        if int(fields[2]) != master:
            continue
        total += int(fields[11]) + int(fields[12])
        if int(entry) == master:
            total += int(fields[13]) + int(fields[14])
    return total / tick


def database_cpu_seconds() -> float | None:
    """Processor time used so far by the PostgreSQL backends serving the bench database
    (their command line names it), or None on SQLite, whose work is the server's own. A
    backend that ended during the run (its process replaced) is not counted."""
    if connection.vendor != "postgresql":
        return None
    name = connection.settings_dict["NAME"]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == connection.connection.info.backend_pid:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                words = f.read().split(b"\0")[0].split()
            # "postgres: [cluster:] user database host(port) state"
            if not words or words[0] != b"postgres:" or name.encode() not in words[1:4]:
                continue
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument(
        "--driver",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="wrk (Debian's package, when installed) or Python threads",
    )
    args = parser.parse_args()
    drive = load_wrk if args.driver == "wrk" else load
    agent, customer = build(args.size)
    pages = [
        ("the floor: /health (no session, one SELECT 1)", "", "/health"),
        ("agent: queue 'all', every state", cookie_of(agent), "/agent/?queue=all&state=any"),
        ("agent: queue 'mine'", cookie_of(agent), "/agent/"),
        ("customer: organisation's open tickets", cookie_of(customer), "/portal/"),
    ]
    port = free_port()
    env = {
        **os.environ,
        "CASEDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "CASEDESK_DATA_DIR": os.environ.get("CASEDESK_DATA_DIR") or tempfile.mkdtemp(),
        "CASEDESK_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            CASEDESK,
            "serve",
            "--port",
            str(port),
            "--processes",
            str(args.processes),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_ready(port, server)
        print(
            f"{args.size:,} tickets; casedesk serve --processes {args.processes} "
            f"--threads {args.threads}; {args.clients} clients ({args.driver}), "
            f"{args.seconds:g} s each"
        )
        connection.ensure_connection()
        print(
            "| page | requests/s | p50 | p99 | server CPU per request "
            "| database CPU per request | requests | errors |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, cookie, path in pages:
            drive(port, path, cookie, args.clients, args.warmup)
            cpu, db = server_cpu_seconds(server.pid), database_cpu_seconds()
            r = drive(port, path, cookie, args.clients, args.seconds)
            cpu, db_after = server_cpu_seconds(server.pid) - cpu, database_cpu_seconds()
            n = max(1, r["requests"])
            db_text = (
                "(in the server's)"
                if db is None or db_after is None
                else f"{(db_after - db) * 1000 / n:.2f} ms"
            )
            print(
                f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms "
                f"| {cpu * 1000 / n:.2f} ms | {db_text} "
                f"| {r['requests']:,} | {r['errors']} |",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
