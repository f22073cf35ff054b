"""A release reaches a customer's environment; tickets waiting for it move on.

Recording the deployment is quick; moving the tickets runs in the background worker
(`deliver_release`), one ticket per transaction, so a large organisation does not hold a
long transaction and a crash half-way is simply resumed by running the task again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from casedesk.accounts.models import Organisation
from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem
from casedesk.desks.models import Deployment, Desk, WorkflowVersion
from casedesk.workflow import released

from .permissions import authorise
from .system import ticket_fire_event

EVENT = "release_deployed"


def release_record(
    *,
    actor,
    organisation: Organisation,
    desk: Desk,
    environment: str,
    version: str,
    deployed_at: datetime | None = None,
) -> Deployment:
    """Record that `version` now runs in `environment` of `organisation`."""
    authorise(actor, "release.record", desk)
    environment, version = (environment or "").strip(), (version or "").strip()
    errors: dict[str, Problem] = {}
    if not environment or len(environment) > 40:
        errors["environment"] = Problem("ticket.release.environment", limit=40)
    if not version or len(version) > 64:
        errors["version"] = Problem("ticket.release.version", limit=64)
    if not desk.organisations.filter(pk=organisation.pk).exists():
        errors["organisation"] = Problem("ticket.release.organisation")
    if errors:
        raise InvalidInput(errors)
    from .tasks import deliver_release

    with transaction.atomic():
        deployment = Deployment.objects.create(
            organisation=organisation,
            desk=desk,
            environment=environment,
            version=version,
            deployed_at=deployed_at or clock.now(),
            recorded_by=actor,
        )
        # The database task backend stores the task in this same transaction: the task
        # exists exactly when the deployment does.
        deliver_release.enqueue(deployment_id=deployment.pk)
    return deployment


def _waiting_statuses(workflow: WorkflowVersion, environment: str) -> set[str]:
    return {
        ref.status
        for trigger in workflow.workflow.triggers
        if trigger.on == EVENT and trigger.environment in (None, environment)
        for ref in trigger.places
    }


def release_deliver(deployment: Deployment) -> int:
    """Move every ticket of the deployment's organisation that waits for this release."""
    from .models import Ticket

    moved = 0
    candidates = Ticket.objects.filter(
        organisation=deployment.organisation, desk=deployment.desk
    ).exclude(category__in=("closed", "cancelled"))
    for workflow in WorkflowVersion.objects.filter(
        pk__in=candidates.values("workflow_id").distinct()
    ):
        statuses = _waiting_statuses(workflow, deployment.environment)
        if not statuses:
            continue
        ids = candidates.filter(workflow=workflow, status__in=statuses).values_list("pk", "fields")
        for ticket_id, fields in ids.iterator():
            if not released(fields.get("fix_version"), deployment.version):
                continue
            if ticket_fire_event(
                ticket_id=ticket_id,
                event=EVENT,
                environment=deployment.environment,
                cause={"version": deployment.version, "deployment": deployment.pk},
                applies=lambda t: released(t.fields.get("fix_version"), deployment.version),
            ):
                moved += 1
    return moved
