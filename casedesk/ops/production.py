"""`casedesk serve`: the web app under gunicorn, in several processes, for production.

Before the processes start: the checks, and the static files collected under names that
carry a hash of their content, with gzip and Brotli copies (WhiteNoise serves them with a
year's caching). No migrations: run `casedesk manage migrate` first (`/ready` says when
one is missing), so an upgrade can migrate while the old version still serves.

Request sizes hold as under `casedesk run`: gunicorn refuses over-long request lines and
headers (`limit_request_*`), `BodyLimit` refuses a body above CASEDESK_MAX_REQUEST_BYTES by
its Content-Length before reading a byte of it (and counts a chunked one as it reads),
and Django's RequestSizeLimit then applies the smaller limits by kind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.management import call_command

log = logging.getLogger("casedesk")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _refuse(start_response, status: str, text: bytes) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(text))),
            ("Connection", "close"),
        ],
    )
    return [text]


class BodyLimit:
    """WSGI: refuse a request body larger than `limit` before the app reads any of it."""

    def __init__(self, app: WSGIApp, limit: int):
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response):
        length = environ.get("CONTENT_LENGTH") or ""
        if length:
            try:
                size = int(length)
            except ValueError:
                return _refuse(start_response, "400 Bad Request", b"a broken Content-Length")
            if size > self.limit:
                return _refuse(start_response, "413 Request Entity Too Large", b"too large")
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            spool = tempfile.SpooledTemporaryFile(max_size=1024**2)  # noqa: SIM115 (the app's body now)
            size, stream = 0, environ["wsgi.input"]
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > self.limit:
                    spool.close()
                    return _refuse(start_response, "413 Request Entity Too Large", b"too large")
                spool.write(chunk)
            spool.seek(0)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = spool, str(size)
        return self.app(environ, start_response)


def gunicorn_options(*, host: str, port: int, processes: int, threads: int) -> dict[str, Any]:
    return {
        "bind": [f"{host}:{port}"],
        "workers": processes,
        "worker_class": "gthread",
        "threads": threads,
        # a request that takes longer is a stuck process: it is replaced
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # refused before Django sees them: request line, header count and header size
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        # each process is replaced after this many requests (with jitter): no slow leak
        # lives long
        "max_requests": 5000,
        "max_requests_jitter": 500,
        "accesslog": None,  # casedesk.ops.metrics logs every request
        "logconfig_dict": _gunicorn_logging(),
        "proc_name": "casedesk-web",
        "control_socket_disable": True,
        "forwarded_allow_ips": "",  # the scheme comes from CASEDESK_PROXY_SSL_HEADER alone
        "child_exit": _child_exit,
    }


def _gunicorn_logging() -> dict[str, Any]:
    config: dict[str, Any] = dict(settings.LOGGING)
    config["loggers"] = {
        **config["loggers"],
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    }
    config["root"] = {"handlers": [], "level": "WARNING"}
    return config


def _child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def serve_production(*, host: str, port: int, processes: int, threads: int) -> int:
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    call_command("check", deploy=not settings.DEBUG)
    call_command("collectstatic", interactive=False, verbosity=0)
    from casedesk.wsgi import application

    app = BodyLimit(application, settings.CASEDESK_MAX_REQUEST_BYTES)
    options = gunicorn_options(host=host, port=port, processes=processes, threads=threads)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    log.info(
        "Casedesk is serving at http://%s:%d/ with %d process(es) of %d thread(s)",
        host,
        port,
        processes,
        threads,
    )
    Server().run()
    return 0
