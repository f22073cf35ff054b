"""`casedesk run` on a fresh machine: migrates, loads the demo, serves, runs the worker."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_starts_web_and_worker_with_demo_data(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CASEDESK_BASE_URL")
    }
    env.update(CASEDESK_DATA_DIR=str(tmp_path), CASEDESK_WORKER_INTERVAL="0.5")
    exe = Path(sys.executable).with_name("casedesk")
    process = subprocess.Popen(
        [str(exe), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.5)
        assert '"status": "ok"' in body and "sqlite" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
            assert r.status == 200 and b"Log in" in r.read()
        assert _announce_a_huge_body(port).startswith(b"HTTP/1.1 413")
        assert (tmp_path / "casedesk.sqlite3").exists()
        _ask_for_a_reset(port, "agent@supplier.example")
        time.sleep(4)  # the worker sends it within a few rounds
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "Demo data loaded" in output and "acme.approver" in output
    assert f"http://127.0.0.1:{port}/" in output
    assert "worker started" in output
    # a mail's link follows the port it was started on (no CASEDESK_BASE_URL set); without
    # an SMTP server, mail is written to the output
    assert f"http://127.0.0.1:{port}/password/reset/" in output


def _ask_for_a_reset(port: int, email: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"http://127.0.0.1:{port}/password/reset/"
    with opener.open(url, timeout=5) as r:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.read().decode())
    assert token
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "email": email})
    request = urllib.request.Request(url, data=data.encode(), headers={"Referer": url})
    with opener.open(request, timeout=5) as r:
        assert r.status == 200


def _announce_a_huge_body(port: int) -> bytes:
    """Send the headers of a 600 MB upload and none of its body: the server must answer
    at once, by the Content-Length alone, instead of waiting to read it all."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 629145600\r\n\r\n"
        )
        return conn.recv(200)
