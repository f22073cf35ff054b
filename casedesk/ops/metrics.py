"""Prometheus metrics at `/metrics` (with `Authorization: Bearer $CASEDESK_METRICS_TOKEN`):

- `casedesk_http_request_duration_seconds` (histogram; method, view, status class), from
  every web process: `casedesk serve` gives its processes one multiprocess directory;
- read from the database at each scrape: each durable-job queue's due and held rows
  (`casedesk_job_due`, `casedesk_job_held`; the ticket timers are the queue `timers`),
  `casedesk_timers_due`, the tasks waiting to run, the seconds since a worker was last
  seen, and every gauge apps registered with `casedesk.jobs.gauges`: mail's held and
  failed mail (casedesk/mail/gauges.py), and the extension point for the SLA clocks.

Each DB number is one count, capped at COUNT_CAP; the held rows of a queue have no index
of their own, so the database numbers are read at most once every CACHE_SECONDS per
process, however often Prometheus scrapes.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from casedesk.common import clock
from casedesk.jobs.gauges import GAUGES
from casedesk.jobs.queue import QUEUES
from casedesk.tickets import timers as _timers  # noqa: F401 (registers the timers' queue)

from .heartbeat import worker_last_seen

log = logging.getLogger("casedesk.request")
COUNT_CAP = 100_000
CACHE_SECONDS = 15.0

REQUEST_SECONDS = Histogram(
    "casedesk_http_request_duration_seconds",
    "Time from a request's arrival in Django to its answer",
    ["method", "view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetrics:
    """Times every request into the histogram and writes one log line for it (method,
    path, view, status, milliseconds, process: fields of its own in JSON logs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "") if match else ""
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(method, view or "none", f"{response.status_code // 100}xx").observe(
            seconds
        )
        log.info(
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
            extra={
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        return response


def _count(rows) -> int:
    return rows[:COUNT_CAP].count()


class DatabaseCollector(Collector):
    """The numbers read from the database, at most every CACHE_SECONDS."""

    cached: tuple[float, list[GaugeMetricFamily]] = (0.0, [])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        read_at, families = DatabaseCollector.cached
        if not families or time.monotonic() - read_at > CACHE_SECONDS:
            families = list(self.read())
            DatabaseCollector.cached = (time.monotonic(), families)
        yield from families

    def read(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks_db.models import DBTaskResult

        now = clock.now()
        due = GaugeMetricFamily("casedesk_job_due", "Rows of a job queue due now", labels=["queue"])
        held = GaugeMetricFamily(
            "casedesk_job_held", "Rows of a job queue held for staff", labels=["queue"]
        )
        for name, queue in sorted(QUEUES.items()):
            due.add_metric([name], _count(queue.due_rows(now)))
            held.add_metric([name], _count(queue.held_rows()))
        yield due
        yield held
        if "timers" in QUEUES:
            yield GaugeMetricFamily(
                "casedesk_timers_due",
                "Ticket timers due now and not yet fired",
                value=_count(QUEUES["timers"].due_rows(now)),
            )
        yield GaugeMetricFamily(
            "casedesk_tasks_ready",
            "Background tasks waiting to run",
            value=_count(DBTaskResult.objects.ready()),
        )
        seen = worker_last_seen()
        if seen is not None:
            yield GaugeMetricFamily(
                "casedesk_worker_seen_seconds_ago",
                "Seconds since a worker last finished a round",
                value=(timezone.now() - seen).total_seconds(),
            )
        for gauge in GAUGES.values():
            family = GaugeMetricFamily(f"casedesk_{gauge.name}", gauge.help, labels=gauge.labels)
            for values, number in gauge.read().items():
                family.add_metric(list(values), number)
            yield family


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.CASEDESK_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Http404
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every web process's requests
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_database_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry
