"""Background tasks (django-tasks). Thin: each calls one delivery."""

from __future__ import annotations

from django_tasks import task

from .delivery import deployment_deliver, publication_deliver, ticket_deliver
from .models import Deployment, Release


@task()
def deliver_deployment(deployment_id: int) -> int:
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    return 0 if deployment is None else deployment_deliver(deployment)


@task()
def deliver_publication(release_id: int) -> int:
    release = Release.objects.filter(pk=release_id).first()
    return 0 if release is None else publication_deliver(release)


@task()
def deliver_ticket(ticket_id: int) -> int:
    return ticket_deliver(ticket_id)
