"""Counters that slow down password guessing."""

from __future__ import annotations

from django.db import models


class LoginThrottle(models.Model):
    """Login attempts for one account name or one address in the current window."""

    key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts}"
