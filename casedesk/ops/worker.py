"""The background worker: fires due timers and runs queued tasks (django-tasks, database
backend). Any number may run at once, on any number of machines."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from casedesk.tickets.timers import timers_fire_due

log = logging.getLogger("casedesk.worker")


def run_ready_tasks() -> int:
    """Run every task that is ready now; returns how many ran."""
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
    worker.run()
    return worker._run_tasks


def work_round() -> tuple[int, int]:
    close_old_connections()
    fired = timers_fire_due()
    ran = run_ready_tasks()
    if fired or ran:
        log.info("fired %d timer(s), ran %d task(s)", fired, ran)
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
