"""`/ready`: may this process take requests? For load balancers and orchestrators; `/health`
(web.views) only says the process is alive and reaches its database."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .heartbeat import worker_last_seen

_migrated = False  # once every migration is applied it stays so for this process


def _unapplied_migrations() -> int:
    global _migrated
    if _migrated:
        return 0
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrated = not plan
    return len(plan)


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    problems: list[str] = []
    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = connection.vendor
        unapplied = _unapplied_migrations()
        checks["unapplied_migrations"] = unapplied
        if unapplied:
            problems.append(f"{unapplied} migration(s) not applied: run `casedesk manage migrate`")
        limit = settings.CASEDESK_READY_WORKER_SECONDS
        if limit and not unapplied:
            seen = worker_last_seen()
            age = (timezone.now() - seen).total_seconds() if seen else None
            checks["worker_seen_seconds_ago"] = None if age is None else round(age, 1)
            if age is None or age > limit:
                problems.append(f"no worker seen in the last {timedelta(seconds=limit)}")
    except DatabaseError as exc:
        problems.append(f"the database does not answer: {exc.__class__.__name__}")
    status = "ready" if not problems else "not ready"
    return JsonResponse(
        {"status": status, "problems": problems, **checks}, status=200 if not problems else 503
    )
