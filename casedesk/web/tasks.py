"""Background tasks of the web app (django-tasks). Thin: each calls one function."""

from __future__ import annotations

from django_tasks import task

from .reset import reset_mail_send


@task()
def password_reset_mail(email: str) -> int:
    return reset_mail_send(email=email)
