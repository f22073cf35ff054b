"""Numbers that apps add to the Prometheus metrics (`/metrics`, casedesk.ops.metrics), read
from the database at each scrape. Every durable-job queue (queue.py) is measured without
registering anything: its due and held rows. An app with something else worth watching
(the SLA clocks: running, warned, breached) registers a gauge from its `ready()`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Gauge:
    name: str  # casedesk_<name>
    help: str
    labels: tuple[str, ...]
    # label values (in `labels` order) -> the number
    read: Callable[[], Mapping[tuple[str, ...], float]]


GAUGES: dict[str, Gauge] = {}


def gauge_register(gauge: Gauge) -> Gauge:
    GAUGES[gauge.name] = gauge
    return gauge
