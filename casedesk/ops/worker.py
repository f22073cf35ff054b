"""The background worker: fires due timers and runs queued tasks (django-tasks, database
backend). Any number may run at once, on any number of machines."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from casedesk.tickets.outbox import deliver_all
from casedesk.tickets.timers import timers_fire_due, timers_warn_due

log = logging.getLogger("casedesk.worker")

# Work that apps find due by their own data (webhook retries, say), looked for every round.
Sweep = Callable[[], int]
SWEEPS: dict[str, Sweep] = {}


def register_sweep(name: str, sweep: Sweep) -> None:
    """Call once per process (an AppConfig.ready): `sweep()` runs every worker round and
    returns how much it did; it must be safe with several workers running at once."""
    SWEEPS[name] = sweep


def run_sweeps() -> int:
    done = 0
    for name, sweep in list(SWEEPS.items()):
        try:
            done += sweep()
        except Exception:  # one app's failure must not stop the others
            log.exception("sweep %s failed", name)
    return done


def run_ready_tasks(limit: int = 1000) -> int:
    """Run the tasks that are ready now (at most `limit`); returns how many ran.

    Claims each task the way django-tasks-db's own worker does (a locked row, SKIP LOCKED
    on PostgreSQL), so this worker and `db_worker` processes can share one queue.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"[:64],
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        with exclusive_transaction(DBTaskResult.objects.db):
            task_result = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task_result is not None:
                task_result.claim(worker.worker_id)
        if task_result is None:
            return ran
        worker.run_task(task_result)
        ran += 1
    return ran


def work_round() -> tuple[int, int]:
    """Due timers and timer warnings, then queued tasks, then history waiting for its
    consumers (mail, webhooks), then the apps' sweeps (sending mail, webhook retries...);
    returns (timers fired, other work done)."""
    if not connection.in_atomic_block:  # (tests run inside one transaction)
        close_old_connections()
    fired = timers_fire_due()
    ran = timers_warn_due() + run_ready_tasks() + deliver_all() + run_sweeps()
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
    interval = settings.CASEDESK_WORKER_INTERVAL if interval is None else interval
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
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
