"""The background worker: fires due timers, runs queued tasks (django-tasks, database
backend) and the apps' sweeps. Any number may run at once, on any number of machines.

Queued tasks are run by django-tasks' own worker through its public interface, the
`db_worker` management command in batch mode (everything ready now, then return), so this
worker and separate `db_worker` processes share one queue by the backend's own rules.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection
from django_tasks.signals import task_finished

from casedesk.jobs.sweeps import run_sweeps
from casedesk.tickets.outbox import deliver_all
from casedesk.tickets.timers import timers_fire_due, timers_warn_due

from .heartbeat import heartbeat_record

log = logging.getLogger("casedesk.worker")

SIGNALS = [s for s in ("SIGINT", "SIGTERM", "SIGQUIT") if hasattr(signal, s)]


def run_ready_tasks() -> int:
    """Run the tasks that are ready now; returns how many ran.

    `db_worker` installs its own signal handlers (a first Ctrl+C lets the running task
    finish); ours are put back afterwards. It must run on the main thread, outside any
    transaction (it checks its database connection between tasks).
    """
    ran: list[object] = []

    def count(sender, task_result, **kwargs) -> None:
        ran.append(task_result.id)

    saved = {name: signal.getsignal(getattr(signal, name)) for name in SIGNALS}
    task_finished.connect(count, weak=False)
    try:
        call_command(
            "db_worker",
            batch=True,
            queue_name="*",
            interval=0,
            startup_delay=False,
            reload=False,
            worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
            verbosity=0,
        )
    finally:
        task_finished.disconnect(count)
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)
    return len(ran)


def work_round() -> tuple[int, int]:
    """Due timers and timer warnings, then queued tasks, then history waiting for its
    consumers (mail, webhooks), then the apps' sweeps (sending mail, webhook retries...);
    returns (timers fired, other work done)."""
    if not connection.in_atomic_block:  # (tests run inside one transaction)
        close_old_connections()
    fired = timers_fire_due()
    ran = timers_warn_due() + run_ready_tasks() + deliver_all() + run_sweeps()
    heartbeat_record()
    if fired or ran:
        log.info("fired %d timer(s), handled %d task(s) and history entries", fired, ran)
    return fired, ran


def run_once(max_rounds: int = 20) -> tuple[int, int]:
    """Everything due now, including what the work itself makes due; then return."""
    total_fired = total_ran = 0
    for _ in range(max_rounds):
        fired, ran = work_round()
        total_fired += fired
        total_ran += ran
        if not (fired or ran):
            break
    return total_fired, total_ran


def run_forever(interval: float | None = None, stop: threading.Event | None = None) -> None:
    """Rounds until `stop` is set or the process is told to stop; on the main thread."""
    interval = settings.CASEDESK_WORKER_INTERVAL if interval is None else interval
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker started; looking for due work every %.1f s", interval)
    while not stop.is_set():
        started = time.monotonic()
        try:
            work_round()
        except Exception:  # a bad round must not stop the worker; it is logged and retried
            log.exception("worker round failed")
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    log.info("worker stopped")
