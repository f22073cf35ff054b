"""Durable jobs: rows in an app's own table that the worker tries until they succeed.

Every kind of retried work (ticket timers, the outbox, outbound mail, webhook deliveries,
the SLA clocks to come) keeps its rows in its own table with the `Job` fields and an
indexed due time, and is described once by a `Queue`. Then, for all of them alike:

- **claim**: the due rows, oldest first, locked with SKIP LOCKED on PostgreSQL (on SQLite
  a transaction already starts with BEGIN IMMEDIATE), are taken by pushing their due time
  one lease ahead and counting an attempt, in a short transaction of their own. The work
  happens after that commit, outside any lock; a worker that dies mid-job leaves the row
  to be claimed again when the lease runs out, and that try counts too, so a job that
  kills its worker is held in the end rather than killing every worker after it.
- **fail**: the next try waits on one schedule (BACKOFF); after the queue's last attempt,
  or at once for an error that no retry can fix, the row is **held**: its due time is
  cleared, so no sweep ever reads it again, and staff see it (admin, `HeldAdmin`) and
  retry or discard it (`job_retry`, `job_discard`).

The cost of a sweep follows the due rows, never the table size: a claim is one range read
on the due-time index (held and finished rows have no due time, or another state the
queue's `ready` filter excludes through the same index).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q

from casedesk.common import clock

log = logging.getLogger("casedesk.jobs")

# Seconds before the 2nd, 3rd... try; the last pause repeats.
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)


def job_lease() -> timedelta:
    """How long a claimed row is left to the worker that claimed it before another may
    claim it again (CASEDESK_JOB_LEASE_SECONDS): longer than any one try may take."""
    from django.conf import settings

    return timedelta(seconds=settings.CASEDESK_JOB_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after try number `attempts` (1 for the first) failed."""
    return timedelta(seconds=BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


@dataclass(frozen=True)
class Queue:
    """One table of durable jobs.

    `due` names the indexed due-time field; `ready` is what else a due row must satisfy
    (a state, say); `null_is_due` makes a row without a due time due at once (for tables
    whose rows are written in many places). A queue whose due time means something beyond
    the job (a timer's) keeps it on hold (`hold_clears_due=False`) and excludes held rows
    in `ready` instead. `claimed`, `held`, `retried` and `discarded`
    are the table's own fields to write when that happens (a state); a queue without
    `discarded` deletes a discarded row. `max_attempts` is read when a try fails, so a
    setting can be changed while the worker runs.
    """

    name: str
    model: type[models.Model]
    max_attempts: Callable[[], int]
    due: str = "next_attempt_at"
    ready: Q = field(default_factory=Q)
    null_is_due: bool = False
    lock_of: tuple[str, ...] = ("self",)
    claimed: Mapping[str, Any] = field(default_factory=dict)
    held: Mapping[str, Any] = field(default_factory=dict)
    retried: Mapping[str, Any] = field(default_factory=dict)
    discarded: Mapping[str, Any] | None = None
    hold_clears_due: bool = True

    def due_rows(self, now: datetime, where: Q | None = None) -> models.QuerySet:
        is_due = Q(**{f"{self.due}__lte": now})
        if self.null_is_due:
            is_due |= Q(**{f"{self.due}__isnull": True})
        rows = self.model._default_manager.filter(self.ready, is_due)
        if where is not None:
            rows = rows.filter(where)
        # (rows without a due time are written in many places, in id order)
        return rows.order_by("pk") if self.null_is_due else rows.order_by(self.due, "pk")

    def held_rows(self) -> models.QuerySet:
        return self.model._default_manager.filter(held_at__isnull=False)


QUEUES: dict[str, Queue] = {}


def queue_register(queue: Queue) -> Queue:
    QUEUES[queue.name] = queue
    return queue


def queue_of(model: type[models.Model]) -> Queue:
    return next(q for q in QUEUES.values() if q.model is model)


def jobs_claim(
    queue: Queue,
    *,
    now: datetime | None = None,
    batch: int = 100,
    lease: timedelta | None = None,
    where: Q | None = None,
) -> list[int]:
    """Claim up to `batch` due rows for one lease (default: `job_lease()`); their ids,
    oldest due first."""
    now = now or clock.now()
    lease = lease or job_lease()
    with transaction.atomic():
        ids = list(
            queue.due_rows(now, where)
            .select_for_update(skip_locked=True, of=queue.lock_of)
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            queue.model._default_manager.filter(pk__in=ids).update(
                **{queue.due: now + lease}, attempts=F("attempts") + 1, **queue.claimed
            )
    return ids


def row_claim(rows: models.QuerySet) -> models.Model | None:
    """The first of `rows`, locked for this transaction, or None when another worker or
    a person holds it (SKIP LOCKED; the next sweep looks again)."""
    return rows.select_for_update(skip_locked=True, of=("self",)).first()


def jobs_run_due(
    queue: Queue,
    act: Callable[..., bool],
    *,
    now: datetime,
    batch: int = 200,
    where: Q | None = None,
    carry: tuple[str, ...] = (),
    act_many: Callable[[list[tuple[Any, ...]]], set[Any]] | None = None,
    many: int = 50,
) -> int:
    """Work that is done under a row lock rather than a lease (a ticket timer, which
    locks its ticket): `act(pk, *carried)` runs for each due row in a transaction of its
    own (`carry`: fields of the row read with its key, such as the ticket it belongs to,
    as they were when listed), claims what it needs with `row_claim`, and returns whether
    it did the work. A row it passes
    over is not tried again in this call; a row it fails on (an exception) is rolled back
    and counted, then backed off or held like any other job. A worker that dies mid-way
    rolls back and leaves the lock to the next one. Returns how many rows were done.

    `act_many(rows)`, where given, does the same for up to `many` listed rows
    (`(pk, *carried)` each, oldest due first) in one transaction, and returns the keys of
    the rows it did; the others are passed over. When it fails, its transaction is rolled
    back and those rows are done again one by one through `act`, so a row that fails
    alone is counted alone and holds up nobody else."""
    done = 0
    passed: set[Any] = set()
    while True:
        listed = list(
            queue.due_rows(now, where).exclude(pk__in=passed).values_list("pk", *carry)[:batch]
        )
        if not listed:
            return done
        parts = [listed]
        if act_many is not None:
            parts = [listed[i : i + many] for i in range(0, len(listed), many)]
        for part in parts:
            if act_many is not None and len(part) > 1:
                try:
                    with transaction.atomic():
                        did = act_many([tuple(row) for row in part])
                except Exception:
                    log.warning(
                        "%s: a batch of %d failed; trying its rows one by one",
                        queue.name,
                        len(part),
                        exc_info=True,
                    )
                else:
                    done += len(did)
                    passed.update(row[0] for row in part if row[0] not in did)
                    continue
            done += _run_each(queue, act, part, passed, now)


def _run_each(queue: Queue, act: Callable[..., bool], rows, passed: set[Any], now) -> int:
    done = 0
    for pk, *carried in rows:
        try:
            with transaction.atomic():
                if act(pk, *carried):
                    done += 1
                    continue
        except Exception as exc:
            log.exception("%s %s failed", queue.name, pk)
            with transaction.atomic():
                row: Any = queue.model._default_manager.select_for_update().filter(pk=pk).first()
                if row is not None:
                    row.attempts += 1
                    row.save(update_fields=["attempts"])
                    job_failed(queue, row, error=f"{type(exc).__name__}: {exc}", now=now)
        passed.add(pk)
    return done


def job_failed(
    queue: Queue, row: Any, *, error: str, now: datetime, permanent: bool = False
) -> bool:
    """Record a failed try on a claimed `row` (its `attempts` already count this try):
    the next try waits on the schedule, or the row is held. True when it was held."""
    row.last_error = error[:2000]
    fields = [queue.due, "last_error"]
    held = permanent or row.attempts >= queue.max_attempts()
    if held:
        if queue.hold_clears_due:
            setattr(row, queue.due, None)
        row.held_at = now
        for name, value in queue.held.items():
            setattr(row, name, value)
        fields += ["held_at", *queue.held]
        log.error("%s %s held after %d tries: %s", queue.name, row.pk, row.attempts, error)
    else:
        setattr(row, queue.due, now + retry_delay(row.attempts))
        log.warning("%s %s: try %d failed (%s)", queue.name, row.pk, row.attempts, error)
    row.save(update_fields=fields)
    return held


def job_retry(*, queue: Queue, ids: Iterable[int], now: datetime | None = None) -> int:
    """Held rows start again from the first try, due now; returns how many."""
    now = now or clock.now()
    return (
        queue.held_rows()
        .filter(pk__in=list(ids))
        .update(**{queue.due: now}, attempts=0, held_at=None, **queue.retried)
    )


def job_discard(*, queue: Queue, ids: Iterable[int]) -> int:
    """Held rows are given up for good; returns how many."""
    rows = queue.held_rows().filter(pk__in=list(ids))
    if queue.discarded is None:
        return rows.delete()[1].get(queue.model._meta.label, 0)
    return rows.update(held_at=None, **queue.discarded)
