"""`casedesk serve` as an operator runs it: gunicorn with several processes, compressed
static files with hashed names, /health and /ready, JSON logs, metrics, request limits;
and `check --deploy` with production settings from the environment."""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from casedesk.ops import metrics as metrics_module
from casedesk.ops import worker
from casedesk.ops.heartbeat import heartbeat_record
from casedesk.tickets import services
from tests.conftest import T0
from tests.ops.installation import Installation, free_port, wait_for

TOKEN = "metrics-" + "t" * 30


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(200)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_serve_runs_processes_that_become_ready_step_by_step(tmp_path):
    port = free_port()
    installation = Installation(
        tmp_path / "data",
        CASEDESK_METRICS_TOKEN=TOKEN,
        CASEDESK_LOG_FORMAT="json",
        CASEDESK_MAX_REQUEST_BYTES="300000",
    )
    server = installation.start("serve", "--port", str(port), "--processes", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        assert json.loads(wait_for(f"{base}/health", server))["status"] == "ok"
        # a new installation: alive, but not ready before it is migrated...
        status, _, body = _get(f"{base}/ready")
        assert status == 503 and "not applied" in json.loads(body)["problems"][0]
        installation.run("manage", "migrate", "-v0")
        # ...nor before a worker was seen...
        status, _, body = _get(f"{base}/ready")
        assert status == 503 and json.loads(body)["problems"] == [
            "no worker seen in the last 0:01:00"
        ]
        installation.run("worker", "--once")
        status, _, body = _get(f"{base}/ready")
        assert status == 200 and json.loads(body)["status"] == "ready"

        assert len(_children(server.pid)) == 2  # gunicorn's two web processes

        status, _, page = _get(f"{base}/login/")
        css = re.search(rb'href="(/static/web/app\.[0-9a-f]{12}\.css)"', page)
        assert status == 200 and css, page[:500]
        status, headers, _ = _get(f"{base}{css.group(1).decode()}", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]

        assert _get(f"{base}/metrics")[0] == 404
        assert _get(f"{base}/metrics", Authorization="Bearer wrong")[0] == 404
        for _ in range(6):
            _get(f"{base}/login/")
        status, _, text = _get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        counts = re.findall(
            rb'casedesk_http_request_duration_seconds_count\{method="GET",status="2xx",'
            rb'view="login"\} ([0-9.]+)',
            text,
        )
        assert counts and float(counts[0]) >= 7  # summed over the processes
        assert b'casedesk_job_due{queue="timers"} 0.0' in text
        assert b"casedesk_worker_seen_seconds_ago" in text

        # the request-size door holds under gunicorn: by Content-Length before the body...
        huge = _raw(
            port,
            b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 629145600\r\n\r\n",
        )
        assert huge.startswith(b"HTTP/1.1 413"), huge
        # ...counted as it comes when chunked...
        chunk = b"x" * 100_000
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4)) + b"0\r\n\r\n"
        chunked = _raw(
            port,
            b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body,
        )
        assert chunked.startswith(b"HTTP/1.1 413"), chunked
        # ...and a header over gunicorn's limit never reaches Django
        long_header = _raw(
            port, b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n"
        )
        assert long_header.startswith(b"HTTP/1.1 431"), long_header
    finally:
        output = installation.stop(server)
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [entry for entry in logged if entry["logger"] == "casedesk.request"]
    assert requests and {"method", "path", "status", "duration_ms", "process"} <= set(requests[0])
    assert {entry["process"] for entry in logged} - {server.pid}  # logged by the web processes


def test_check_deploy_with_production_settings_warns_about_nothing(tmp_path):
    installation = Installation(
        tmp_path,
        CASEDESK_SECRET_KEY=os.urandom(40).hex(),
        CASEDESK_BASE_URL="https://desk.example.com",
        CASEDESK_ALLOWED_HOSTS="desk.example.com",
        CASEDESK_PROXY_SSL_HEADER="X-Forwarded-Proto",
        CASEDESK_HSTS_SUBDOMAINS="1",
        CASEDESK_HSTS_PRELOAD="1",
    )
    done = installation.run("manage", "check", "--deploy", "--fail-level", "WARNING", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_says_what_a_plain_setup_lacks(tmp_path):
    done = Installation(tmp_path).run("manage", "check", "--deploy", check=False)
    assert "security.W008" in done.stderr + done.stdout  # no https redirect


@pytest.mark.django_db
def test_ready_needs_a_worker_seen_recently(client, settings, monkeypatch):
    settings.CASEDESK_READY_WORKER_SECONDS = 60
    answer = client.get("/ready")
    assert answer.status_code == 503 and "no worker seen" in answer.json()["problems"][0]
    heartbeat_record()
    answer = client.get("/ready")
    assert answer.status_code == 200 and answer.json()["worker_seen_seconds_ago"] < 5
    settings.CASEDESK_READY_WORKER_SECONDS = 0  # a deployment that does not ask
    assert client.get("/ready").status_code == 200


def test_ready_says_when_the_database_does_not_answer(client, monkeypatch):
    from django.db import OperationalError, connection

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["problems"] == ["the database does not answer: OperationalError"]


def test_metrics_count_due_work_from_the_database(client, world, settings, app_consumers):
    settings.CASEDESK_METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

    def due(queue: str) -> float:
        metrics_module.DatabaseCollector.cached = (0.0, [])
        text = client.get("/metrics", **auth).content.decode()
        return float(re.search(rf'casedesk_job_due{{queue="{queue}"}} (\S+)', text).group(1))

    assert due("outbox") == 0
    services.ticket_create(actor=world.alice, desk=world.desk, title="Printer on fire")
    assert due("outbox") >= 1  # the new history waits for mail and webhooks
    worker.run_once()
    assert due("outbox") == 0


def test_metrics_count_failed_mail(client, world, settings):
    from casedesk.mail.models import OutboundMail

    settings.CASEDESK_METRICS_TOKEN = TOKEN

    def failed() -> float:
        metrics_module.DatabaseCollector.cached = (0.0, [])
        text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
        return float(re.search(r"^casedesk_mail_outbound_failed (\S+)$", text, re.M).group(1))

    assert failed() == 0
    for n, status in enumerate([OutboundMail.Status.FAILED, OutboundMail.Status.SENT]):
        OutboundMail.objects.create(
            desk=world.desk,
            kind="adhoc",
            key=f"k{n}",
            to=["x@example.com"],
            from_address="desk@example.com",
            subject="s",
            body_text="b",
            message_id=f"<m{n}@example.com>",
            status=status,
            created_at=T0,
        )
    assert failed() == 1
