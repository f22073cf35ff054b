"""Reads of releases, environments and deployments, scoped to who is asking.

A customer sees their own organisation's environments and deployments only, on desks
their organisation uses; staff see those of the desks they have a role on. The desk is
found through `desk_for_user`, so a desk someone may not see is the same NotFound as one
that does not exist.
"""

from __future__ import annotations

from django.db.models import Q

from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk
from casedesk.tickets.selectors import desk_for_user

from .models import Acceptance, Deployment, Environment, Release, TicketFix


def _organisation_filter(user) -> dict:
    return {"organisation_id": user.organisation_id} if user.is_customer else {}


def environments_for(*, user, desk: Desk):
    """The environments `user` may see on `desk` (checked visible by the caller)."""
    return (
        Environment.objects.filter(desk=desk, **_organisation_filter(user))
        .select_related("organisation", "current__release")
        .order_by("organisation__name", "position", "id")
    )


def deployments_for(*, user, desk: Desk):
    return Deployment.objects.filter(desk=desk, **_organisation_filter(user)).select_related(
        "environment", "release"
    )


def environment_by_name(*, user, desk_id: int, organisation_slug: str, name: str) -> Environment:
    """An environment named by a pipeline: the desk, the organisation's slug, its name."""
    desk = desk_for_user(user=user, desk_id=desk_id)
    env = (
        environments_for(user=user, desk=desk)
        .filter(organisation__slug=organisation_slug, name=name)
        .first()
    )
    if env is None:
        raise NotFound("no such environment")
    return env


def release_by_version(*, desk: Desk, version: str) -> Release | None:
    return Release.objects.filter(desk=desk, version=version).select_related("line").first()


def releases_for(*, user, desk: Desk):
    """Staff see every release of the desk; a customer the published ones and those that
    reached one of their organisation's environments (a release still planned is not
    theirs to read)."""
    rows = Release.objects.filter(desk=desk).select_related("line")
    if user.is_customer:
        rows = rows.filter(
            Q(published_on__isnull=False) | Q(deployments__organisation_id=user.organisation_id)
        ).distinct()
    return rows.order_by("line__position", "position")


def release_for(*, user, desk: Desk, version: str) -> Release:
    release = releases_for(user=user, desk=desk).filter(version=version).first()
    if release is None:
        raise NotFound("ticket.release.not_found")
    return release


def fixes_of(ticket):
    """The ticket's fixes, active ones and withdrawn (the ticket checked visible)."""
    return TicketFix.objects.filter(ticket=ticket).select_related("release__line").order_by("id")


def acceptances_of(ticket):
    """The customer's verdicts on the ticket's fixes, per tier and cycle (checked visible:
    the ticket's organisation is the reader's, or the reader is staff of its desk)."""
    return Acceptance.objects.filter(ticket=ticket).select_related("environment", "release")


def release_overview(*, user, desk: Desk):
    """The desk's version lines with their releases, newest first, each with how many
    active fixes it carries and how many deployments it had (staff of the desk)."""
    from django.db.models import Count

    fixes = Count("fixes", filter=Q(fixes__withdrawn_at__isnull=True), distinct=True)
    return (
        releases_for(user=user, desk=desk)
        .annotate(fix_count=fixes, deployment_count=Count("deployments", distinct=True))
        .order_by("line__position", "line_id", "-position")
    )


def release_detail(*, user, desk: Desk, version: str):
    """One release for staff: its fixes on tickets they may see, the environments whose
    current deployment is this release, and every deployment of it."""
    from casedesk.tickets.models import Ticket

    release = release_for(user=user, desk=desk, version=version)
    fixes = list(
        TicketFix.objects.filter(release=release, ticket__in=Ticket.objects.visible_to(user))
        .select_related("ticket__organisation")
        .order_by("ticket__number")
    )
    running = list(environments_for(user=user, desk=desk).filter(current__release=release))
    deployments = list(
        deployments_for(user=user, desk=desk)
        .filter(release=release)
        .select_related("environment__organisation")
        .order_by("-deployed_at", "-id")[:200]
    )
    return release, fixes, running, deployments
