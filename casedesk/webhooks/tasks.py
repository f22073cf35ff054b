"""Background tasks (django-tasks). Thin: each calls one function."""

from __future__ import annotations

from django_tasks import task

from .sending import delivery_attempt


@task()
def webhook_send(delivery_id: int) -> bool:
    return delivery_attempt(delivery_id)
