"""Mixed traffic against a real installation on PostgreSQL, with processes killed in the
middle, and the checks afterwards: the core of `bench/loadfault.py` and of
`tests/ops/test_loadfault.py`.

What runs, all on loopback: `casedesk serve --processes 2` (two gunicorn web processes),
two `casedesk worker`, `casedesk mail serve` (the LMTP receiver an MTA would hand mail
to), an SMTP sink (aiosmtpd) for the mail Casedesk sends and an HTTP receiver for its
webhooks. Client threads, each on tickets of its own (so no change is refused as stale):

  portal   customers log in (form, CSRF), open tickets and comment on them
  agent    agents reply on their tickets and move them (to a third party and back)
  api      customers' API tokens open tickets, read them and comment (with the version)
  mail     customers' mails reach the desk over LMTP and open tickets

Every change carries a marker of its own in its title or text; each request's kind,
start, end and outcome is recorded. In the middle one worker is killed (SIGKILL) and
started again, and one of the two gunicorn web processes is killed (SIGKILL; gunicorn
starts another). Afterwards, once the workers have drained everything:

- every change whose request succeeded is in the database exactly once; one whose
  request failed is there at most once; no marker is there twice;
- the only failed requests are those in flight to the killed web process when it died
  (a broken connection, no answer), none with an error status;
- every mail Casedesk wrote is sent and reached the sink (by Message-ID), and every
  webhook delivery is delivered and reached the receiver (by its delivery id); a second
  copy is allowed only for a row that was claimed again after its worker died (attempts
  above 1): for webhooks at most one per killed worker (each worker sends one at a time),
  for mail at most one per SMTP connection of the killed worker (`MAIL_CONNECTIONS`; each
  records a mail before it hands over the next);
- every history entry that makes a webhook has its delivery, no outbox entry is left,
  nothing is pending, held or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import smtplib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import requests

from tests.ops.installation import Installation, free_port, wait_for

PASSWORD = "load-test-password-1"
DESK_ADDRESS = "support@load.example"
AUTHSERV = "mx.load.test"
# Mail a rule decides not to send (`mail/outbound/notify.py`): confirmations of new tickets
# by mail are limited per address and day, so the mail client's later ones are not sent.
SKIPPED_BY_RULE = ("too many automatic replies to this address today",)
# seconds: what a killed worker had claimed is taken again after this; long enough that a
# batch sent on a slow machine is not claimed again while its worker is still at it
LEASE = 12
# SMTP connections a worker sends a batch on side by side (`mail.outbound.send.CONNECTIONS`,
# not imported: this module also runs where Django is not set up)
MAIL_CONNECTIONS = 4


@dataclass
class Shape:
    """How much traffic: client threads of each kind and the pause after each change."""

    seconds: float = 60
    portal: int = 2
    agents: int = 2
    api: int = 2
    mail: int = 1
    pause: float = 0.25
    tickets_per_agent: int = 3
    # a bound on requests per client, whatever the machine's speed
    max_changes_per_client: int = 400


# -- the installation's data -----------------------------------------------------------

SETUP = """
import json
from django.utils import timezone
from casedesk.accounts.models import Organisation, User
from casedesk.api.tokens import token_create
from casedesk.desks.models import StaffMembership, Team
from casedesk.desks.services import desk_create, preset_store
from casedesk.mail.models import DeskMail
from casedesk.tickets import services
from casedesk.webhooks.models import AllowedNetwork, WebhookSubscription

shape = json.loads({shape!r})
desk = desk_create(name="Load desk", key_prefix="LD", workflow=preset_store("default"))
org = Organisation.objects.create(name="Load Ltd", slug="load", language="en")
desk.organisations.set([org])
DeskMail.objects.create(desk=desk, address={address!r}, sender_limit_per_hour=100000)
AllowedNetwork.objects.create(network="127.0.0.0/8", note="the load test's receiver")
WebhookSubscription.objects.create(desk=desk, url={hook!r}, secret="s" * 64,
                                   created_at=timezone.now())

hashed = []  # one hashing of the password for everybody (it is slow on purpose)

def person(name, email, **fields):
    user = User.objects.create_user(name, email, None if hashed else {password!r}, **fields)
    if hashed:
        User.objects.filter(pk=user.pk).update(password=hashed[0])
    else:
        hashed.append(user.password)
    return user

def customer(name):
    return person(name, f"{{name}}@load.example", kind="customer", organisation=org,
                  customer_role="member", language="en")

out = {{"desk": desk.pk, "portal": [], "agents": [], "api": [], "mail": []}}
for n in range(shape["portal"]):
    out["portal"].append(customer(f"portal{{n}}").username)
for n in range(shape["mail"]):
    out["mail"].append(customer(f"mailer{{n}}").email)
for n in range(shape["api"]):
    user = customer(f"api{{n}}")
    out["api"].append(token_create(actor=user, user=user, name="load", scope="write")[1])
reporter = customer("reporter")
for n in range(shape["agents"]):
    agent = person(f"agent{{n}}", f"agent{{n}}@supplier.example", kind="staff")
    StaffMembership.objects.create(desk=desk, user=agent, role="agent")
    for team in Team.objects.filter(desk=desk):
        team.members.add(agent)
    keys = []
    for m in range(shape["tickets_per_agent"]):
        ticket = services.ticket_create(actor=reporter, desk=desk,
                                        title=f"Agent {{n}} ticket {{m}}", description="x")
        ticket = services.ticket_transition(actor=agent, ticket=ticket, transition="start",
                                            assignee=agent)
        keys.append(ticket.key)
    out["agents"].append({{"username": agent.username, "pk": agent.pk, "tickets": keys}})
print("SETUP " + json.dumps(out))
"""


# -- the sinks ----------------------------------------------------------------------------


class MailSink:
    """An SMTP server keeping the Message-ID of each mail it accepted."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.005)  # a little time per mail, so a batch can be cut
        for line in envelope.original_content.splitlines():
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 accepted"


class HookSink:
    """An HTTP server keeping the X-Casedesk-Delivery id of each POST it answered."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with sink.lock:
                    sink.ids.append(self.headers.get("X-Casedesk-Delivery", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- what the clients record -------------------------------------------------------------


@dataclass
class Call:
    kind: str
    start: float
    end: float
    status: int | None  # None: no answer (the connection broke)
    error: str = ""


@dataclass
class Change:
    marker: str
    kind: str
    ok: bool
    call: Call | None = None


@dataclass
class Record:
    calls: list[Call] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client_errors: list[str] = field(default_factory=list)

    def call(self, c: Call) -> Call:
        with self.lock:
            self.calls.append(c)
        return c

    def change(self, c: Change) -> None:
        with self.lock:
            self.changes.append(c)


class Unexpected(Exception):
    """An answer a client did not expect; recorded as an error of that request (`call`),
    or a client's own surprise (no call: a page without its form)."""

    def __init__(self, text: str, call: Call | None = None) -> None:
        super().__init__(text)
        self.call = call


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


class Http:
    """A requests session that records each call; a new connection for each request, so
    a request is only ever in flight to the process that answers it."""

    def __init__(self, base: str, record: Record) -> None:
        self.base, self.record = base, record
        self.session = requests.Session()
        self.session.headers["Connection"] = "close"

    def __call__(self, kind: str, method: str, path: str, expect: tuple[int, ...], **kw):
        start = time.monotonic()
        try:
            answer = self.session.request(
                method, self.base + path, timeout=60, allow_redirects=False, **kw
            )
        except requests.RequestException as exc:
            self.record.call(Call(kind, start, time.monotonic(), None, type(exc).__name__))
            raise
        call = self.record.call(Call(kind, start, time.monotonic(), answer.status_code))
        if answer.status_code not in expect:
            call.error = f"{answer.status_code}: {answer.text[:2000]}"
            raise Unexpected(call.error, call)
        answer.call = call  # type: ignore[attr-defined]
        return answer

    def form(self, kind: str, path: str) -> tuple[str, int | None]:
        page = self(kind, "GET", path, (200,)).text
        csrf = CSRF.search(page)
        if not csrf:
            raise Unexpected(f"no CSRF token on {path}")
        version = VERSION.search(page)
        return csrf.group(1), int(version.group(1)) if version else None

    def login(self, username: str) -> None:
        token, _ = self.form("login page", "/login/")
        self(
            "login",
            "POST",
            "/login/",
            (302,),
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )


def marker(kind: str) -> str:
    return f"LF-{kind}-{uuid.uuid4().hex[:12]}"


def _attempt(record: Record, kind: str, mark: str, do) -> None:
    """Run one change; record whether its request succeeded."""
    try:
        call = do()
        record.change(Change(mark, kind, True, call))
    except (requests.RequestException, Unexpected, OSError, smtplib.SMTPException) as exc:
        record.change(Change(mark, kind, False))
        if isinstance(exc, Unexpected) and exc.call is None:  # (calls are recorded)
            record.client_errors.append(f"{kind}: {exc}"[:300])


def _keep_going(record: Record, stop: threading.Event, shape: Shape, body) -> None:
    done = 0
    while not stop.is_set() and done < shape.max_changes_per_client:
        try:
            body(done)
        except (requests.RequestException, Unexpected) as exc:  # a page read that failed
            if isinstance(exc, Unexpected) and exc.call is None:
                record.client_errors.append(str(exc)[:300])
            time.sleep(0.5)
        done += 1
        stop.wait(shape.pause * random.uniform(0.5, 1.5))


def portal_client(base, username, desk, record, stop, shape):
    http = Http(base, record)
    http.login(username)
    mine: list[str] = []

    def one(n: int) -> None:
        if n % 3 == 0 or not mine:
            token, _ = http.form("portal: new ticket page", f"/portal/new/?desk={desk}")
            mark = marker("portal-ticket")

            def create():
                answer = http(
                    "portal: open ticket",
                    "POST",
                    "/portal/new/",
                    (302,),
                    data={
                        "desk": desk,
                        "title": f"Printer {mark}",
                        "description": "It jams.",
                        "csrfmiddlewaretoken": token,
                    },
                )
                mine.append(answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
                return answer.call

            _attempt(record, "portal-ticket", mark, create)
        else:
            key = random.choice(mine)
            token, version = http.form("portal: ticket page", f"/portal/t/{key}/")
            mark = marker("portal-comment")
            data = {"body": f"More detail {mark}", "version": version, "csrfmiddlewaretoken": token}

            def comment():
                return http(
                    "portal: comment", "POST", f"/portal/t/{key}/comment/", (302,), data=data
                ).call

            _attempt(record, "portal-comment", mark, comment)

    _keep_going(record, stop, shape, one)


def agent_client(base, agent, record, stop, shape):
    http = Http(base, record)
    http.login(agent["username"])

    def one(n: int) -> None:
        key = agent["tickets"][n % len(agent["tickets"])]
        page = http("agent: ticket page", "GET", f"/agent/t/{key}/", (200,)).text
        token, version = CSRF.search(page), VERSION.search(page)
        if not (token and version):
            raise Unexpected(f"no form on /agent/t/{key}/")
        data = {"version": version.group(1), "csrfmiddlewaretoken": token.group(1)}
        # what the page offers decides (a move whose answer was lost may have been made)
        if f"/agent/t/{key}/act/start/" in page:
            data["assignee"] = agent["pk"]
            with contextlib.suppress(requests.RequestException, Unexpected):
                http("agent: move", "POST", f"/agent/t/{key}/act/start/", (302,), data=data)
            return
        if random.random() < 0.5:
            mark = marker("agent-move")
            data["comment"] = f"Asked the vendor {mark}"
            kind, path, name = "agent-move", f"/agent/t/{key}/act/to_third_party/", "agent: move"
        else:
            mark = marker("agent-reply")
            data["body"] = f"We are on it {mark}"
            kind, path, name = "agent-reply", f"/agent/t/{key}/reply/", "agent: reply"
        _attempt(record, kind, mark, lambda: http(name, "POST", path, (302,), data=data).call)

    _keep_going(record, stop, shape, one)


def api_client(base, token, desk, record, stop, shape):
    http = Http(base, record)
    http.session.headers["Authorization"] = f"Bearer {token}"
    mine: list[str] = []

    def one(n: int) -> None:
        if n % 3 == 0 or not mine:
            mark = marker("api-ticket")

            def create():
                answer = http(
                    "api: open ticket",
                    "POST",
                    "/api/v1/tickets",
                    (201,),
                    json={"desk": desk, "title": f"Sync fails {mark}"},
                )
                mine.append(answer.json()["key"])
                return answer.call

            _attempt(record, "api-ticket", mark, create)
        else:
            key = random.choice(mine)
            read = http("api: read ticket", "GET", f"/api/v1/tickets/{key}", (200,))
            version = int(read.headers["ETag"].strip('"'))
            mark = marker("api-comment")
            _attempt(
                record,
                "api-comment",
                mark,
                lambda: (
                    http(
                        "api: comment",
                        "POST",
                        f"/api/v1/tickets/{key}/comments",
                        (201,),
                        json={"body": f"Log attached {mark}", "version": version},
                    ).call
                ),
            )

    _keep_going(record, stop, shape, one)


def mail_client(port, address, record, stop, shape):
    def one(n: int) -> None:
        mark = marker("mail-ticket")
        raw = (
            f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=load.example\r\n"
            f"From: {address}\r\nTo: {DESK_ADDRESS}\r\nSubject: Cannot print {mark}\r\n"
            f"Message-ID: {make_msgid(domain='load.example')}\r\n"
            f"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n\r\nIt stopped again.\r\n"
        ).encode()

        def send():
            start = time.monotonic()
            try:
                with smtplib.LMTP("127.0.0.1", port, timeout=60) as lmtp:
                    refused = lmtp.sendmail(address, [DESK_ADDRESS], raw)
            except (OSError, smtplib.SMTPException) as exc:
                record.call(Call("mail: deliver (LMTP)", start, time.monotonic(), None, str(exc)))
                raise
            call = record.call(Call("mail: deliver (LMTP)", start, time.monotonic(), 250))
            if refused:
                call.error = str(refused)
                raise Unexpected(call.error, call)
            return call

        _attempt(record, "mail-ticket", mark, send)

    _keep_going(record, stop, shape, one)


# -- processes ------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (not the dead ones not yet reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                if int(ppid) == pid and state not in ("Z", "X"):
                    found.append(int(entry.name))
    return sorted(found)


def wait_children(pid: int, count: int, gone: int = 0, timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(found := [p for p in children(pid) if p != gone]) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"the web server has {len(found)} processes, not {count}")
        time.sleep(0.1)
    return found


def _connected(pids: list[int], port: int, remote: bool = False) -> list[int]:
    """Those of `pids` holding an established TCP connection on local `port` (a request
    accepted there), or with `remote`, to `port` (a mail or webhook being sent)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                address = cols[2] if remote else cols[1]
                if int(address.rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                    sockets.add(cols[9])  # the socket's inode
    busy = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in sockets:
                        busy.append(pid)
                        break
    return busy


def kill_busy(pids: list[int], ports: list[int], remote: bool = False, within: float = 5):
    """SIGKILL one of `pids`, one that is busy on one of `ports` (see `_connected`) if one
    turns up within `within` seconds; returns its pid, whether it was busy, and when."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for port in ports:
            busy = _connected(pids, port, remote)
            if busy:
                at = time.monotonic()
                os.kill(busy[0], signal.SIGKILL)
                return busy[0], True, at
        time.sleep(0.003)
    victim, at = random.choice(pids), time.monotonic()
    os.kill(victim, signal.SIGKILL)
    return victim, False, at


# -- the run -------------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float
    record: Record
    kills: dict[str, float]
    restarted: dict[str, float]
    checks: dict[str, object]
    problems: list[str]
    drain_seconds: float

    def latency_rows(self) -> list[tuple[str, int, float, float]]:
        by: dict[str, list[float]] = {}
        for c in self.record.calls:
            if c.status is not None and not c.error:
                by.setdefault(c.kind, []).append((c.end - c.start) * 1000)
        return [(k, len(v), pct(v, 50), pct(v, 99)) for k, v in sorted(by.items())]

    def table(self) -> str:
        lines = ["| request | n | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
        for kind, n, p50, p99 in self.latency_rows():
            lines.append(f"| {kind} | {n} | {p50:.0f} | {p99:.0f} |")
        return "\n".join(lines)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # nearest rank
    return ordered[int(rank) - 1]


class Rig:
    """The installation, its processes, the sinks and the clients, for one run."""

    def __init__(self, workdir: Path, database_url: str, shape: Shape, log=print) -> None:
        from aiosmtpd.controller import Controller

        workdir.mkdir(parents=True, exist_ok=True)
        self.url, self.shape = database_url, shape
        began = time.monotonic()
        self.log = lambda text: log(f"[{time.monotonic() - began:5.1f} s] {text}")
        self.mail_sink, self.hooks = MailSink(), HookSink()
        self.smtp_port, self.web_port, self.lmtp_port = free_port(), free_port(), free_port()
        self.smtp = Controller(self.mail_sink, hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        self.installation = Installation(
            workdir / "data",
            DATABASE_URL=database_url,
            CASEDESK_SMTP_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            CASEDESK_WORKER_INTERVAL="0.5",
            CASEDESK_JOB_LEASE_SECONDS=str(LEASE),
            CASEDESK_MAIL_AUTHSERV_ID=AUTHSERV,
            CASEDESK_MAIL_DNS_CHECK="off",
            CASEDESK_API_RATE_LIMIT="100000",
            CASEDESK_READY_WORKER_SECONDS="0",
        )
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.logs = workdir / "logs"
        self.record, self.stop = Record(), threading.Event()
        self.threads: list[threading.Thread] = []
        self.workers: list = []

    def __enter__(self) -> Rig:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        self.installation.stop_all()
        self.smtp.stop()
        self.hooks.stop()

    def _start(self) -> None:
        shape, installation = self.shape, self.installation
        self.log("migrating")
        installation.run("manage", "migrate", "-v0")
        # the processes start while the desk, people and tickets are made
        self.web = self.start("serve", "--port", str(self.web_port), "--processes", "2")
        self.workers = [self.start("worker"), self.start("worker")]
        self.mail_in = self.start("mail", "serve", "--port", str(self.lmtp_port))
        self.log("making the desk, people and tickets")
        setup = SETUP.format(
            shape=json.dumps(shape.__dict__),
            address=DESK_ADDRESS,
            hook=f"http://127.0.0.1:{self.hooks.port}/hook",
            password=PASSWORD,
        )
        made = installation.run("manage", "shell", "-c", setup, check=False)
        assert made.returncode == 0, made.stderr[-3000:]
        self.world = json.loads(made.stdout.split("SETUP ", 1)[1])
        self.log("waiting for the processes to be ready")
        try:
            wait_for(f"{self.base}/ready", self.web, timeout=240)
        except (AssertionError, OSError):
            raise AssertionError(f"the web server did not start: {self.logs_of('serve')}") from None
        self.web_pids = wait_children(self.web.pid, 2)
        _wait_port(self.lmtp_port, self.mail_in)

    def start(self, *args: str):
        """A process of the installation, its output in logs/ (`logs_of` reads it)."""
        name = "-".join(args[:2]).replace("--", "")
        self.logs.mkdir(exist_ok=True)
        return self.installation.start(*args, log_to=self.logs / f"{name}.log")

    def logs_of(self, name: str) -> str:
        return "".join(p.read_text() for p in sorted(self.logs.glob(f"{name}*.log")))

    def traffic(self) -> float:
        """Start every client; returns when they started."""
        world, shape, record, stop = self.world, self.shape, self.record, self.stop
        clients = []
        for username in world["portal"]:
            clients.append((portal_client, (self.base, username, world["desk"])))
        for agent in world["agents"]:
            clients.append((agent_client, (self.base, agent)))
        for token in world["api"]:
            clients.append((api_client, (self.base, token, world["desk"])))
        for address in world["mail"]:
            clients.append((mail_client, (self.lmtp_port, address)))

        def guarded(target, args):
            try:
                target(*args, record, stop, shape)
            except Exception as exc:  # a client that could not start (its login failed)
                record.client_errors.append(f"{target.__name__} stopped: {exc!r}"[:300])

        self.threads = [threading.Thread(target=guarded, args=c, daemon=True) for c in clients]
        self.log(f"traffic for {shape.seconds:.0f} s from {len(self.threads)} clients")
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self.started

    def at(self, fraction: float) -> None:
        """Wait until `fraction` of the run's seconds have passed."""
        self.stop.wait(max(0.0, self.started + self.shape.seconds * fraction - time.monotonic()))

    def finish(self) -> tuple[float, float]:
        """Stop the clients and wait for the workers to drain; (traffic s, drain s)."""
        self.stop.set()
        for t in self.threads:
            t.join(90)
        elapsed = time.monotonic() - self.started
        self.log(
            f"{len(self.record.calls)} requests, {len(self.record.changes)} changes; "
            "waiting for the workers"
        )
        drained = time.monotonic()
        _drain(self.url, self.workers)
        self.log(f"drained in {time.monotonic() - drained:.1f} s")
        for p in (*self.workers, self.web, self.mail_in):
            assert p.poll() is None, f"a process stopped; see {self.logs}: {p.args}"
        return elapsed, time.monotonic() - drained

    def judge(self, allowed) -> tuple[dict, list[str]]:
        return judge(self.url, self.record, allowed, self.mail_sink, self.hooks)


def run(workdir: Path, database_url: str, shape: Shape, log=print) -> Outcome:
    """The whole load and fault run on `database_url` (an empty database)."""
    with Rig(workdir, database_url, shape, log) as rig:
        rig.traffic()
        kills: dict[str, float] = {}
        restarted: dict[str, float] = {}
        rig.at(0.35)
        pids = [w.pid for w in rig.workers]
        ports = [rig.smtp_port, rig.hooks.port]
        victim, sending, kills["worker"] = kill_busy(pids, ports, remote=True)
        killed = rig.workers[pids.index(victim)]
        rig.installation.stop(killed)  # (reaped)
        rig.log(f"killed a worker (SIGKILL), {'while' if sending else 'not'} sending")
        time.sleep(2)
        rig.workers[pids.index(victim)] = rig.start("worker")
        restarted["worker"] = time.monotonic()
        rig.at(0.55)
        victim, busy, kills["web"] = kill_busy(rig.web_pids, [rig.web_port])
        rig.log(f"killed web process {victim} (SIGKILL), {'with' if busy else 'without'} a request")
        wait_children(rig.web.pid, 2, gone=victim)
        restarted["web"] = time.monotonic()
        rig.log(f"gunicorn started another in {restarted['web'] - kills['web']:.1f} s")
        rig.at(1.0)
        elapsed, drain = rig.finish()

        def in_flight(c: Call) -> bool:
            # no answer, and under way when the web process was killed
            return c.status is None and c.start <= kills["web"] <= c.end + 0.05

        checks, problems = rig.judge(in_flight)
    checks["the killed worker was sending (mail or a webhook)"] = sending
    checks["the killed web process had a request in hand"] = busy
    checks["seconds until gunicorn replaced it"] = round(restarted["web"] - kills["web"], 1)
    return Outcome(elapsed, rig.record, kills, restarted, checks, problems, drain)


def _wait_port(port: int, process) -> None:
    import socket

    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, f"the LMTP receiver stopped: {process.args}"
            assert time.monotonic() < deadline, "the LMTP receiver did not start"
            time.sleep(0.3)


UNFINISHED = """
SELECT (SELECT count(*) FROM tickets_outboxitem),
       (SELECT count(*) FROM mail_outboundmail WHERE status = 'pending'),
       (SELECT count(*) FROM webhooks_webhookdelivery WHERE state <> 'delivered')
"""


def _drain(url: str, workers, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(UNFINISHED).fetchone()
            if row is not None and not any(row):
                break
            for w in workers:
                assert w.poll() is None, "a worker stopped while draining"
            if time.monotonic() > deadline:
                raise AssertionError(f"not drained: outbox, mail, webhooks {row}")
            time.sleep(0.5)
    time.sleep(1.5)  # a last send in flight is counted too


def judge(url, record: Record, allowed, mail_sink: MailSink, hooks: HookSink):
    """The checks after a run; `allowed(call)` says which failed requests the fault
    explains. Returns (figures, problems)."""
    problems: list[str] = []
    checks: dict[str, object] = {}
    failed = [c for c in record.calls if c.status is None or c.error]
    explained = [c for c in failed if allowed(c)]
    checks["requests"] = len(record.calls)
    checks["failed requests"] = len(failed)
    checks["failed requests the fault explains"] = len(explained)
    for c in failed:
        if c not in explained:
            problems.append(f"a request failed that the fault does not explain: {c}")
    problems += [f"client: {e}" for e in record.client_errors]

    with psycopg.connect(url, autocommit=True) as conn:
        texts = [r[0] for r in conn.execute("SELECT title FROM tickets_ticket")]
        texts += [r[0] for r in conn.execute("SELECT body FROM tickets_comment")]
        found = Counter(m for t in texts for m in re.findall(r"LF-[a-z-]+-[0-9a-f]{12}", t))
        mails = conn.execute(
            "SELECT message_id, status, attempts, held_at, last_error FROM mail_outboundmail"
        ).fetchall()
        deliveries = conn.execute(
            "SELECT uuid::text, state, attempts, held_at, last_error FROM webhooks_webhookdelivery"
        ).fetchall()
        checks["outbox entries left"] = conn.execute(
            "SELECT count(*) FROM tickets_outboxitem"
        ).fetchone()[0]
        checks["history entries without their webhook"] = conn.execute(
            """SELECT count(*) FROM tickets_ticketevent e
               WHERE (e.kind IN ('created', 'transition') OR (e.kind = 'comment' AND e.public))
               AND NOT EXISTS (SELECT 1 FROM webhooks_webhookdelivery d WHERE d.event_id = e.id)"""
        ).fetchone()[0]
        checks["inbound mail not made into tickets"] = conn.execute(
            "SELECT count(*) FROM mail_inboundmail WHERE ticket_id IS NULL"
        ).fetchone()[0]
        checks["tasks"] = dict(
            conn.execute(
                "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"
            )
        )
    ok = [c for c in record.changes if c.ok]
    checks["changes made"] = len(ok)
    checks["changes whose request failed"] = len(record.changes) - len(ok)
    checks["changes by kind"] = dict(Counter(c.kind for c in ok))
    lost = [c.marker for c in ok if found[c.marker] == 0]
    doubled = [m for m, n in found.items() if n > 1]
    checks["lost"], checks["doubled"] = len(lost), len(doubled)
    if lost:
        problems.append(f"{len(lost)} successful change(s) not in the database: {lost[:5]}")
    if doubled:
        problems.append(f"{len(doubled)} change(s) in the database twice: {doubled[:5]}")
    unknown = set(found) - {c.marker for c in record.changes}
    if unknown:
        problems.append(f"changes nobody made: {sorted(unknown)[:5]}")
    if checks["outbox entries left"] or checks["history entries without their webhook"]:
        problems.append("outbox entries left, or history without its webhook delivery")
    if checks["inbound mail not made into tickets"]:
        problems.append("inbound mail held or not made into tickets")

    for name, rows, seen, done, repeats in (
        ("mail", mails, mail_sink.ids, ("sent", "skipped"), MAIL_CONNECTIONS),
        ("webhooks", deliveries, hooks.ids, ("delivered",), 1),
    ):
        counts = Counter(seen)
        state = Counter(r[1] for r in rows)
        checks[f"{name}: rows"] = dict(state)
        checks[f"{name}: received"] = len(seen)
        expected = {r[0] for r in rows if r[1] in ("sent", "delivered")}
        missing = expected - set(counts)
        twice = {k: n for k, n in counts.items() if n > 1}
        retried = {r[0] for r in rows if r[2] > 1}
        checks[f"{name}: claimed again after a worker died"] = len(retried)
        checks[f"{name}: received twice"] = len(twice)
        skipped = Counter(r[4] for r in rows if r[1] == "skipped")
        if skipped:
            checks[f"{name}: not sent, by the rule that said so"] = dict(skipped)
        if set(skipped) - set(SKIPPED_BY_RULE):
            problems.append(f"{name}: skipped for another reason: {skipped}")
        if any(r[1] not in done or r[3] is not None for r in rows):
            problems.append(f"{name}: rows not done: {state}")
        if missing:
            problems.append(f"{name}: {len(missing)} not received: {sorted(missing)[:3]}")
        if set(counts) - {r[0] for r in rows}:
            problems.append(f"{name}: received what was never written")
        if len(twice) > repeats or any(n > 2 for n in twice.values()) or set(twice) - retried:
            problems.append(f"{name}: received twice beyond the killed worker's one: {twice}")
    return checks, problems
