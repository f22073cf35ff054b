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

# More work for every round, registered by apps (mail sending, say): name -> a callable
# that does what is due now and returns how much it did.
STEPS: dict[str, Callable[[], int]] = {}


def register_step(name: str, step: Callable[[], int]) -> None:
    """Call once per process (an AppConfig.ready) to run `step` in every worker round."""
    STEPS[name] = step


def run_steps() -> int:
    done = 0
    for name, step in list(STEPS.items()):
        try:
            done += step()
        except Exception:  # one failing step must not stop the others
            log.exception("worker step %s failed", name)
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
    consumers (mail, webhooks), then the registered steps (sending mail); returns (timers
    fired, other pieces of work done)."""
    if not connection.in_atomic_block:  # (tests run inside one transaction)
        close_old_connections()
    fired = timers_fire_due()
    ran = timers_warn_due() + run_ready_tasks() + deliver_all() + run_steps()
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
