"""The hour estimate of a ticket: read it, set it (staff), grant it (a customer approver)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router
from pydantic import Field, StringConstraints

from casedesk.sheets import estimates
from casedesk.tickets import selectors

from ..schemas import In, PersonRef, Schema, person_ref
from .tickets import KeyPath, errors

router = Router(tags=["hour estimate"])
Hours = Annotated[str, StringConstraints(max_length=20)]


class EstimateOut(Schema):
    hours: str | None = Field(description="the estimate in hours; null when there is none")
    granted_hours: str | None = Field(description="the hours last granted, if ever")
    granted_at: datetime | None
    granted_by: PersonRef | None
    awaiting_grant: bool = Field(description="the estimate waits for an approver's grant")
    logged_minutes: int = Field(description="worked minutes that count, over every cycle")
    percent_used: int
    can_grant: bool = Field(description="you may grant it now")


class EstimateIn(In):
    hours: Hours = Field(description='e.g. "6.5"; more than 0, at most two decimals')


class GrantIn(In):
    hours: Hours | None = Field(
        None, description="the hours you were shown; refused if the estimate changed since"
    )


def _out(request: HttpRequest, ticket) -> dict:
    view = estimates.estimate_for(user=request.user, ticket=ticket)
    if view is None:
        return {
            "hours": None,
            "granted_hours": None,
            "granted_at": None,
            "granted_by": None,
            "awaiting_grant": False,
            "logged_minutes": 0,
            "percent_used": 0,
            "can_grant": False,
        }
    return {
        "hours": f"{view.hours:.2f}",
        "granted_hours": None if view.granted_hours is None else f"{view.granted_hours:.2f}",
        "granted_at": view.granted_at,
        "granted_by": person_ref(view.granted_by) if view.granted_by else None,
        "awaiting_grant": view.awaiting,
        "logged_minutes": view.minutes,
        "percent_used": view.percent,
        "can_grant": view.can_grant,
    }


@router.get(
    "/tickets/{key}/estimate",
    response={200: EstimateOut, **errors()},
    summary="The hour estimate and its grant",
)
def estimate_get(request: HttpRequest, key: KeyPath):
    """Everyone who may see the ticket sees its estimate and whether it is granted."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return _out(request, ticket)


@router.put(
    "/tickets/{key}/estimate",
    response={200: EstimateOut, **errors()},
    summary="Set the hour estimate (staff)",
)
def estimate_put(request: HttpRequest, key: KeyPath, payload: EstimateIn):
    """Raising the estimate above the granted hours withdraws the grant and asks the
    organisation's approvers again; lowering it keeps the grant."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    estimates.estimate_set(actor=request.user, ticket=ticket, hours=payload.hours, channel="api")
    return _out(request, ticket)


@router.post(
    "/tickets/{key}/estimate/grant",
    response={200: EstimateOut, **errors()},
    summary="Grant the hour estimate (a customer approver)",
)
def estimate_grant(request: HttpRequest, key: KeyPath, payload: GrantIn):
    """An approver of the ticket's organisation grants the estimate as it stands."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    estimates.estimate_grant(actor=request.user, ticket=ticket, hours=payload.hours, channel="api")
    return _out(request, ticket)
