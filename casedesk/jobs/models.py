"""The one table of rate-limit counters, and the fields every table of durable jobs has."""

from __future__ import annotations

from django.db import models


class WindowCount(models.Model):
    """How often `key` was counted in the fixed window that starts at `start`. A database
    row rather than a cache entry, so every process of an installation counts against the
    same limit without a cache server."""

    key = models.CharField(max_length=200)
    start = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)  # so any key's old rows can be tidied
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["key", "-start"]
        constraints = [
            models.UniqueConstraint(fields=["key", "start"], name="one_count_per_key_and_window")
        ]

    def __str__(self) -> str:
        return f"{self.key} from {self.start:%Y-%m-%d %H:%M}: {self.count}"


class Job(models.Model):
    """What a table of durable jobs adds to its own fields (see queue.py): how many tries
    were made, what went wrong last, and when the row was held for staff. The due time is
    the table's own (indexed) field, named in its Queue."""

    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    held_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the last try failed; staff retry or discard"
    )

    class Meta:
        abstract = True
