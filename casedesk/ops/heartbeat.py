"""Workers say they are alive; `/ready` asks when one was last seen."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from .models import WorkerHeartbeat

NAME = f"{socket.gethostname()}-{os.getpid()}"[:100]
STARTED = timezone.now()
FORGET_AFTER = timedelta(days=7)


def heartbeat_record() -> None:
    """This worker finished a round now (real time: the injected clock is for tickets)."""
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(worker=NAME).update(seen_at=now, rounds=F("rounds") + 1):
        WorkerHeartbeat.objects.update_or_create(
            worker=NAME, defaults={"seen_at": now, "started_at": STARTED, "rounds": 1}
        )
        # a new process: forget those that stopped long ago
        WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def worker_last_seen() -> datetime | None:
    return WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
