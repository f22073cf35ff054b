"""Deployments from a delivery pipeline, the environments a caller may see, releases and
the fixes they carry, what's new in a release, and the customer's verdicts.

A pipeline calls `POST /desks/{id}/deployments` with a token of the `deploy` scope (which
may do nothing else), as a lead of the desk. Its own id for the deployment makes the call
idempotent: sent again, the answer is 200 with the stored deployment and nothing changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field, StringConstraints

from casedesk.common.errors import InvalidInput, Problem
from casedesk.releases import selectors
from casedesk.releases.models import TicketFix, VersionLine
from casedesk.releases.services import (
    deployment_record,
    fix_record,
    fix_withdraw,
    line_create,
    release_create,
)
from casedesk.releases.whatsnew import whats_new_for
from casedesk.tickets.selectors import desk_for_user, ticket_get_for_actor

from ..schemas import Id, In, IsoDateTime, Schema, Version
from .sheets import Day
from .tickets import errors

router = Router(tags=["releases"])
Text = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class DeploymentIn(In):
    organisation: Text = Field(description="the organisation's slug")
    environment: Text = Field(description="the environment's name, as declared")
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    pipeline_id: Text = Field(description="the pipeline's own id for this deployment")
    deployed_at: IsoDateTime | None = Field(
        None, strict=False, description="ISO 8601; default: now"
    )


class ReleaseOut(Schema):
    version: str
    line: str
    position: int
    published_on: date | None


class DeploymentOut(Schema):
    id: int
    environment: str
    tier: str
    organisation: int
    release: ReleaseOut
    deployed_at: datetime
    received_at: datetime
    pipeline_id: str


class EnvironmentOut(Schema):
    id: int
    name: str
    tier: str
    organisation: int
    release: ReleaseOut | None
    deployed_at: datetime | None


def _release(r) -> dict:
    return {
        "version": r.version,
        "line": r.line.name,
        "position": r.position,
        "published_on": r.published_on,
    }


def deployment_out(d) -> dict:
    return {
        "id": d.pk,
        "environment": d.environment.name,
        "tier": d.environment.tier,
        "organisation": d.organisation_id,
        "release": _release(d.release),
        "deployed_at": d.deployed_at,
        "received_at": d.received_at,
        "pipeline_id": d.pipeline_id,
    }


@router.post(
    "/desks/{desk_id}/deployments",
    response={200: DeploymentOut, 201: DeploymentOut, **errors()},
    summary="Record a deployment (from a delivery pipeline)",
    url_name="deployment_record",
)
def deployment_create(request: HttpRequest, desk_id: Id, body: DeploymentIn):
    env = selectors.environment_by_name(
        user=request.user,
        desk_id=desk_id,
        organisation_slug=body.organisation,
        name=body.environment,
    )
    release = selectors.release_by_version(desk=env.desk, version=body.version)
    if release is None:
        raise InvalidInput({"version": "no release of this desk has that version"})
    deployment, created = deployment_record(
        actor=request.user,
        environment=env,
        release=release,
        pipeline_id=body.pipeline_id,
        deployed_at=body.deployed_at,
    )
    return Status(201 if created else 200, deployment_out(deployment))


@router.get(
    "/desks/{desk_id}/environments",
    response={200: list[EnvironmentOut], **errors()},
    summary="Environments and the release each runs",
)
def environment_list(request: HttpRequest, desk_id: Id):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    return [
        {
            "id": e.pk,
            "name": e.name,
            "tier": e.tier,
            "organisation": e.organisation_id,
            "release": _release(e.current.release) if e.current else None,
            "deployed_at": e.current.deployed_at if e.current else None,
        }
        for e in selectors.environments_for(user=request.user, desk=desk).select_related(
            "current__release__line"
        )
    ]


Label = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Lang = Annotated[str, StringConstraints(min_length=2, max_length=10)]


class ReleaseIn(In):
    line: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="the version line's name; a new name makes the line"
    )
    version: Label
    position: int | None = Field(None, description="where on the line; default: after its last")
    published_on: Day | None = Field(None, description="YYYY-MM-DD: the update is out")


class FixIn(In):
    version: Label = Field(description="the release that fixes the ticket")
    kind: Literal["fix", "change"] = "fix"
    notes: dict[Lang, Annotated[str, StringConstraints(max_length=4000)]] = Field(
        default_factory=dict, description="the note for customers, per language of the desk"
    )
    audience: Literal["organisation", "everyone"] = Field(
        "organisation",
        description="who reads the note in What's new: the ticket's organisation only "
        "(the default), or every customer of the desk (the release note)",
    )
    ticket_version: Version | None = Field(None, description="the ticket version you read")


class FixOut(Schema):
    release: ReleaseOut
    kind: str
    notes: dict[str, str]
    audience: str = Field(description="organisation or everyone: who reads the note")
    active: bool
    created_at: datetime


class WhatsNewOut(Schema):
    release: ReleaseOut
    lang: str
    fixes: list[str]
    changes: list[str]
    cases: list[str] = Field(description="the reader's own cases it carries")
    reached: list[dict] = Field(description="per environment of the reader's organisation")


class AcceptanceOut(Schema):
    tier: str
    environment: str | None
    release: str | None
    cycle: int
    round: int
    verdict: str
    reason: str
    at: datetime


def fix_out(f: TicketFix) -> dict:
    return {
        "release": _release(f.release),
        "kind": f.kind,
        "notes": dict(f.notes or {}),
        "audience": f.audience,
        "active": f.withdrawn_at is None,
        "created_at": f.created_at,
    }


@router.get(
    "/desks/{desk_id}/releases",
    response={200: list[ReleaseOut], **errors()},
    summary="The desk's releases, line by line in their order",
)
def release_list(request: HttpRequest, desk_id: Id):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    return [_release(r) for r in selectors.releases_for(user=request.user, desk=desk)]


@router.post(
    "/desks/{desk_id}/releases",
    response={201: ReleaseOut, **errors()},
    summary="Declare a release (leads of the desk)",
)
def release_add(request: HttpRequest, desk_id: Id, body: ReleaseIn):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    try:
        published_on = date.fromisoformat(body.published_on) if body.published_on else None
    except ValueError:
        raise InvalidInput({"published_on": Problem("date.malformed")}) from None
    with transaction.atomic():  # a refused release leaves no new line behind
        line = VersionLine.objects.filter(desk=desk, name=body.line.strip()).first()
        if line is None:
            line = line_create(actor=request.user, desk=desk, name=body.line)
        release = release_create(
            actor=request.user,
            line=line,
            version=body.version,
            position=body.position,
            published_on=published_on,
        )
    return Status(201, _release(release))


@router.get(
    "/desks/{desk_id}/releases/{version}/whats-new",
    response={200: WhatsNewOut, **errors()},
    summary="What's new in a release, as the reader sees it",
)
def whats_new(request: HttpRequest, desk_id: Id, version: Label, lang: Lang = "en"):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    release = selectors.release_for(user=request.user, desk=desk, version=version)
    page = whats_new_for(user=request.user, desk_id=desk.pk, version=release.version, lang=lang)
    return {
        "release": _release(page.release),
        "lang": page.lang,
        "fixes": page.fixes,
        "changes": page.changes,
        "cases": [t.key for t in page.cases],
        "reached": [
            {"environment": r.environment, "tier": r.tier, "at": r.at} for r in page.reached
        ],
    }


@router.get(
    "/tickets/{key}/fixes",
    response={200: list[FixOut], **errors()},
    summary="The releases a ticket is fixed in",
)
def fix_list(request: HttpRequest, key: str):
    ticket = ticket_get_for_actor(user=request.user, key=key)
    return [fix_out(f) for f in selectors.fixes_of(ticket)]


@router.post(
    "/tickets/{key}/fixes",
    response={201: FixOut, **errors()},
    summary="Fix a ticket in a release, with a note for customers per language (agents)",
)
def fix_add(request: HttpRequest, key: str, body: FixIn):
    ticket = ticket_get_for_actor(user=request.user, key=key)
    release = selectors.release_for(user=request.user, desk=ticket.desk, version=body.version)
    fix = fix_record(
        actor=request.user,
        ticket=ticket,
        release=release,
        kind=body.kind,
        notes=dict(body.notes),
        audience=body.audience,
        expected_version=body.ticket_version,
    )
    return Status(201, fix_out(TicketFix.objects.select_related("release__line").get(pk=fix.pk)))


@router.delete(
    "/tickets/{key}/fixes/{version}",
    response={204: None, **errors()},
    summary="The ticket is not fixed in that release after all (agents)",
)
def fix_remove(request: HttpRequest, key: str, version: Label):
    ticket = ticket_get_for_actor(user=request.user, key=key)
    release = selectors.release_for(user=request.user, desk=ticket.desk, version=version)
    fix_withdraw(actor=request.user, ticket=ticket, release=release)
    return Status(204, None)


@router.get(
    "/tickets/{key}/acceptances",
    response={200: list[AcceptanceOut], **errors()},
    summary="The customer's verdicts on the ticket's fixes, per tier and cycle",
)
def acceptance_list(request: HttpRequest, key: str):
    ticket = ticket_get_for_actor(user=request.user, key=key)
    return [
        {
            "tier": a.tier,
            "environment": a.environment.name if a.environment else None,
            "release": a.release.version if a.release else None,
            "cycle": a.cycle,
            "round": a.round,
            "verdict": a.verdict,
            "reason": a.reason,
            "at": a.at,
        }
        for a in selectors.acceptances_of(ticket)
    ]
