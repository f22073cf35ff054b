"""Deployments from a delivery pipeline, and the environments a caller may see.

A pipeline calls `POST /desks/{id}/deployments` with a token of the `deploy` scope (which
may do nothing else), as a lead of the desk. Its own id for the deployment makes the call
idempotent: sent again, the answer is 200 with the stored deployment and nothing changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field, StringConstraints

from casedesk.common.errors import InvalidInput
from casedesk.releases import selectors
from casedesk.releases.services import deployment_record
from casedesk.tickets.selectors import desk_for_user

from ..schemas import Id, In, IsoDateTime, Schema
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
