"""What the running processes say about themselves: each worker's last round."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per worker process (host and process id), written at every round; `/ready`
    and the metrics read the newest."""

    worker = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    rounds = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker}, last seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
