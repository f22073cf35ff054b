"""Deliveries: a deployment or a publication moves the tickets it concerns.

Which tickets a release concerns is one range read on the `fix_waiting` index: the open,
active fixes of the organisation on the release's line up to its position. Only those
tickets are read (by key, a batch at a time), and each one whose place a release event of
its workflow names is moved through `ticket_fire_event`, in its own transaction; the
check is asked again under the ticket's lock, so a ticket that moved meanwhile is left
alone. Running a delivery again moves nothing twice: a ticket that moved is no longer
where the event applies.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from casedesk.desks.models import compiled_workflow
from casedesk.tickets.models import Ticket
from casedesk.tickets.services import ticket_fire_event
from casedesk.workflow import Workflow

from .models import Deployment, Environment, Release, TicketFix

DEPLOYED = "release_deployed"
PUBLISHED = "release_published"
BATCH = 500


def waits_for(wf: Workflow, event: str, status: str, sub: str, tier: str | None) -> bool:
    """Does a trigger of `event` (for this tier) apply where the ticket is?"""
    return any(
        trigger.on == event
        and (tier is None or trigger.environment in (None, tier))
        and any(ref.matches(status, sub) for ref in trigger.places)
        for trigger in wf.triggers
    )


def carried(release: Release) -> Q:
    """The active fixes `release` carries (its line, up to its position)."""
    return Q(
        line_id=release.line_id,
        position__lte=release.position,
        open=True,
        withdrawn_at__isnull=True,
    )


def _candidates(fixes, event: str, tier: str | None) -> Iterable[int]:
    """The tickets of `fixes` whose place waits for `event`, in id order, batch by batch.

    Two reads, so neither depends on the planner's guess of how many open fixes one
    organisation has: the fixes alone, on their index, give the ticket ids; then the
    tickets by key, a batch at a time, sorted here. Read as one join, PostgreSQL guessed a
    sixth of a million rows for ten thousand and scanned every ticket of every organisation;
    asked to sort the fixes by ticket, it walked every fix in ticket order instead."""
    ids = sorted(fixes.order_by().values_list("ticket_id", flat=True))
    for start in range(0, len(ids), BATCH):
        rows = (
            Ticket.objects.filter(pk__in=ids[start : start + BATCH])
            .order_by("pk")
            .values_list("pk", "status", "sub_status", "workflow__checksum")
        )
        for ticket_id, status, sub, checksum in rows:
            if waits_for(compiled_workflow(checksum), event, status, sub, tier):
                yield ticket_id


def _still_carried(release: Release):
    """Asked under the ticket's lock: is its fix still one the release carries? One
    statement (the release's line and position are in hand, and never change)."""
    where = carried(release)

    def applies(ticket: Ticket) -> bool:
        return TicketFix.objects.filter(where, ticket_id=ticket.pk).exists()

    return applies


def deployment_deliver(deployment: Deployment) -> int:
    """Move the tickets of the deployment's organisation that wait for what its
    environment now runs. That is the environment's current deployment, which a late
    event for an older one does not change."""
    env = Environment.objects.select_related("current__release").get(pk=deployment.environment_id)
    current = env.current or deployment
    release = current.release
    fixes = TicketFix.objects.filter(carried(release), organisation_id=env.organisation_id)
    moved = 0
    for ticket_id in _candidates(fixes, DEPLOYED, env.tier):
        if _move(ticket_id, DEPLOYED, env.tier, current, release):
            moved += 1
    return moved


def ticket_deliver(ticket_id: int) -> int:
    """One ticket that arrived where a release event applies after the release had already
    reached its environment (a PROD deployment that came before the TEST acceptance), or
    after the update was published: move it now."""
    fixes = list(
        TicketFix.objects.filter(ticket_id=ticket_id, open=True, withdrawn_at__isnull=True)
    )
    if not fixes:
        return 0
    ticket = Ticket.objects.select_related("workflow").get(pk=ticket_id)
    wf = compiled_workflow(ticket.workflow.checksum)
    lines = {f.line_id: f.position for f in fixes}
    for env in Environment.objects.filter(
        organisation_id=ticket.organisation_id, desk_id=ticket.desk_id, current__isnull=False
    ).select_related("current__release"):
        release = env.current.release  # type: ignore[union-attr]
        if lines.get(release.line_id, release.position + 1) > release.position:
            continue
        if waits_for(wf, DEPLOYED, ticket.status, ticket.sub_status, env.tier):
            return int(_move(ticket_id, DEPLOYED, env.tier, env.current, release))
    if waits_for(wf, PUBLISHED, ticket.status, ticket.sub_status, None):
        for release in Release.objects.filter(
            line_id__in=lines, published_on__isnull=False
        ).order_by("-position"):
            if lines[release.line_id] <= release.position:
                return int(_move(ticket_id, PUBLISHED, None, None, release))
    return 0


def publication_deliver(release: Release) -> int:
    """The update is out: move every ticket, of every organisation, that waits for it."""
    fixes = TicketFix.objects.filter(carried(release))
    moved = 0
    for ticket_id in _candidates(fixes, PUBLISHED, None):
        if _move(ticket_id, PUBLISHED, None, None, release):
            moved += 1
    return moved


def _move(
    ticket_id: int,
    event: str,
    tier: str | None,
    deployment: Deployment | None,
    release: Release,
) -> bool:
    cause: dict = {"version": release.version, "release": release.pk}
    if deployment is not None:
        cause["deployment"] = deployment.pk
        cause["environment_id"] = deployment.environment_id
    return (
        ticket_fire_event(
            ticket_id=ticket_id,
            event=event,
            environment=tier,
            cause=cause,
            applies=_still_carried(release),
        )
        is not None
    )
