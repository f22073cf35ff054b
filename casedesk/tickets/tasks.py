"""Background tasks (django-tasks). Thin: each calls one service."""

from __future__ import annotations

from django_tasks import task

from casedesk.desks.models import Deployment

from .releases import release_deliver


@task()
def deliver_release(deployment_id: int) -> int:
    deployment = (
        Deployment.objects.select_related("organisation", "desk").filter(pk=deployment_id).first()
    )
    if deployment is None:
        return 0
    return release_deliver(deployment)
