"""Background tasks (django-tasks). Thin: each calls one function."""

from __future__ import annotations

from django_tasks import task

from .printing import sheet_pdf_store


@task()
def sheet_print(sheet_id: int) -> bool:
    return sheet_pdf_store(sheet_id)
