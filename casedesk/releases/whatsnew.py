"""What's new: a release's notes for customers, per language, and what it means for the
reader's own organisation: which of their cases it carries, when it reached each of their
environments, and what is fixed but not yet installed where.

Reads only: the desk through `desk_for_user`, tickets through `visible_to`, and
environments of the reader's own organisation, so nobody learns another organisation's
cases, environments or deployments here. A fix's note is read by its audience: the
ticket's organisation, or every customer of the desk when staff chose so; staff reading
What's new see what every customer sees (each note's audience is on the release's page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Min, Q

from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk
from casedesk.tickets.models import Ticket
from casedesk.tickets.selectors import desk_for_user

from .models import Deployment, Environment, Release, TicketFix


@dataclass(frozen=True)
class Reached:
    environment: str
    tier: str
    at: datetime | None


@dataclass
class WhatsNew:
    desk: Desk
    release: Release
    lang: str
    fixes: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    cases: list[Ticket] = field(default_factory=list)
    reached: list[Reached] = field(default_factory=list)


def _note(notes: dict, lang: str, fallback: str) -> str:
    return (notes or {}).get(lang) or (notes or {}).get(fallback) or ""


def notes_for(user) -> Q:
    """The fixes whose note `user` may read: those for every customer, and a customer's
    own organisation's. The ticket's organisation now decides, not the one it had when
    the fix was recorded."""
    everyone = Q(audience=TicketFix.Audience.EVERYONE)
    if not user.is_customer or user.organisation_id is None:
        return everyone
    return everyone | Q(
        audience=TicketFix.Audience.ORGANISATION, ticket__organisation_id=user.organisation_id
    )


def _own_environments(user, desk: Desk):
    if not user.is_customer:
        return Environment.objects.none()
    return Environment.objects.filter(organisation_id=user.organisation_id, desk=desk)


def whats_new_for(*, user, desk_id: int, version: str, lang: str) -> WhatsNew:
    desk = desk_for_user(user=user, desk_id=desk_id)
    release = Release.objects.filter(desk=desk, version=version).select_related("line").first()
    if release is None:
        raise NotFound("no such release")
    fallback = desk.workflow.workflow.languages[0]
    page = WhatsNew(desk=desk, release=release, lang=lang)
    seen: set[str] = set()
    for kind, notes in (
        TicketFix.objects.filter(release=release, withdrawn_at__isnull=True)
        .filter(notes_for(user))
        .order_by("id")
        .values_list("kind", "notes")
    ):
        text = _note(notes, lang, fallback)
        if text and text not in seen:
            seen.add(text)
            (page.fixes if kind == TicketFix.Kind.FIX else page.changes).append(text)
    page.cases = list(
        Ticket.objects.visible_to(user)
        .filter(fixes__release=release, fixes__withdrawn_at__isnull=True)
        .order_by("number")
    )
    envs = list(_own_environments(user, desk).order_by("position", "id"))
    first = dict(
        Deployment.objects.filter(
            environment__in=envs,
            release__line_id=release.line_id,
            release__position__gte=release.position,
        )
        .values("environment_id")
        .annotate(at=Min("deployed_at"))
        .values_list("environment_id", "at")
    )
    page.reached = [Reached(e.name, e.tier, first.get(e.pk)) for e in envs]
    return page


@dataclass(frozen=True)
class Waiting:
    ticket: Ticket
    release: Release
    installed: dict[str, bool]  # environment name -> does it run a release carrying it


@dataclass
class Updates:
    desk: Desk
    environments: list[Environment]
    waiting: list[Waiting]
    releases: list[Release]


def updates_for(*, user, desk_id: int) -> Updates:
    """The reader's organisation: its environments and what each runs, the cases fixed
    in a release that is not yet everywhere, and the desk's published releases."""
    desk = desk_for_user(user=user, desk_id=desk_id)
    envs = list(
        _own_environments(user, desk).select_related("current__release").order_by("position", "id")
    )
    fixes = (
        TicketFix.objects.filter(
            ticket__in=Ticket.objects.visible_to(user).filter(desk=desk),
            open=True,
            withdrawn_at__isnull=True,
        )
        .select_related("ticket", "release")
        .order_by("position", "ticket__number")[:500]
    )
    waiting = []
    for fix in fixes:
        installed = {e.name: bool(e.current and e.current.release.carries(fix)) for e in envs}
        if not all(installed.values()) or not envs:
            waiting.append(Waiting(fix.ticket, fix.release, installed))
    releases = list(
        Release.objects.filter(desk=desk)
        .filter(Q(published_on__isnull=False) | Q(deployments__organisation_id=_org(user)))
        .distinct()
        .select_related("line")
        .order_by("line__position", "-position")[:50]
    )
    return Updates(desk=desk, environments=envs, waiting=waiting, releases=releases)


def _org(user) -> int:
    return user.organisation_id if user.is_customer else 0


def fixes_on_ticket(ticket: Ticket) -> list[Release]:
    """The releases an open ticket's active fixes are in (for a link to what's new)."""
    if ticket.category in ("closed", "cancelled"):
        return []
    return [
        f.release
        for f in TicketFix.objects.filter(ticket=ticket, withdrawn_at__isnull=True)
        .select_related("release")
        .order_by("position")
    ]
