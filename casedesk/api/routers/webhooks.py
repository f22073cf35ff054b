"""Webhook subscriptions of a desk and their delivery logs, for the desk's admins."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field, StringConstraints

from casedesk.tickets.selectors import desk_for_user
from casedesk.webhooks import services
from casedesk.webhooks.models import EVENT_TYPES

from ..schemas import Id, In, QueryIn, Schema
from .tickets import errors

router = Router(tags=["webhooks"])
if TYPE_CHECKING:
    EventType = str
else:  # one of the event types, listed in the API's schema; built from the one list of them
    EventType = Literal[tuple(key for key, _ in EVENT_TYPES)]
Url = Annotated[str, StringConstraints(max_length=500)]


class SubscriptionOut(Schema):
    id: int
    desk: int
    url: str
    description: str
    events: list[str] = Field(description="empty: every event type")
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="signs every delivery; shown only this once")


class SubscriptionIn(In):
    url: Url
    events: list[EventType] = Field(default_factory=list, max_length=20)
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class SubscriptionPatch(In):
    url: Url | None = None
    events: list[EventType] | None = Field(None, max_length=20)
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    active: bool | None = None


class AttemptOut(Schema):
    at: datetime
    address: str
    status_code: int | None
    error: str
    duration_ms: int
    response_excerpt: str


class DeliveryOut(Schema):
    id: int
    uuid: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    tries: list[AttemptOut]


class DeliveryQuery(QueryIn):
    before: int | None = Field(None, ge=1, le=2**53, description="the last id of a page")
    limit: int = Field(50, ge=1, le=100)


def subscription_out(sub) -> dict:
    return {
        "id": sub.pk,
        "desk": sub.desk_id,
        "url": sub.url,
        "description": sub.description,
        "events": list(sub.events),
        "active": sub.active,
        "consecutive_failures": sub.consecutive_failures,
        "disabled_at": sub.disabled_at,
        "disabled_reason": sub.disabled_reason,
        "created_at": sub.created_at,
    }


@router.get(
    "/desks/{desk_id}/webhooks",
    response={200: list[SubscriptionOut], **errors()},
    summary="A desk's webhooks",
)
def subscriptions_list(request: HttpRequest, desk_id: Id):
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    rows = services.subscriptions_for_desk(user=request.user, desk=desk)
    return [subscription_out(s) for s in rows]


@router.post(
    "/desks/{desk_id}/webhooks",
    response={201: SubscriptionCreated, **errors()},
    summary="Subscribe to a desk's events",
)
def subscription_create(request: HttpRequest, desk_id: Id, payload: SubscriptionIn):
    """Each delivery is a JSON POST with headers `X-Casedesk-Event`, `X-Casedesk-Delivery`
    and `X-Casedesk-Signature: t=<unix time>,v1=<hex>`, where the hex is the HMAC-SHA256,
    keyed with the secret, of `<unix time>.` followed by the body."""
    desk = desk_for_user(user=request.user, desk_id=desk_id)
    sub, secret = services.subscription_create(
        actor=request.user,
        desk=desk,
        url=payload.url,
        events=list(payload.events),
        description=payload.description,
    )
    return Status(201, {**subscription_out(sub), "secret": secret})


@router.get(
    "/webhooks/{webhook_id}", response={200: SubscriptionOut, **errors()}, summary="A webhook"
)
def subscription_get(request: HttpRequest, webhook_id: Id):
    return subscription_out(
        services.subscription_get_for_actor(user=request.user, subscription_id=webhook_id)
    )


@router.patch(
    "/webhooks/{webhook_id}",
    response={200: SubscriptionOut, **errors()},
    summary="Change a webhook",
)
def subscription_update(request: HttpRequest, webhook_id: Id, payload: SubscriptionPatch):
    """`active: true` switches a webhook on again after it was switched off for failing."""
    sub = services.subscription_get_for_actor(user=request.user, subscription_id=webhook_id)
    sub = services.subscription_update(
        actor=request.user,
        subscription=sub,
        url=payload.url,
        events=list(payload.events) if payload.events is not None else None,
        description=payload.description,
        active=payload.active,
    )
    return subscription_out(sub)


@router.delete(
    "/webhooks/{webhook_id}", response={204: None, **errors()}, summary="Delete a webhook"
)
def subscription_delete(request: HttpRequest, webhook_id: Id):
    sub = services.subscription_get_for_actor(user=request.user, subscription_id=webhook_id)
    services.subscription_delete(actor=request.user, subscription=sub)
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: list[DeliveryOut], **errors()},
    summary="Its delivery log",
)
def deliveries_list(request: HttpRequest, webhook_id: Id, query: Query[DeliveryQuery]):
    """Deliveries, newest first, each with every attempt: when, to which address, what
    answered or what went wrong."""
    sub = services.subscription_get_for_actor(user=request.user, subscription_id=webhook_id)
    rows = services.deliveries_for(
        user=request.user, subscription=sub, limit=query.limit, before=query.before
    )
    return [
        {
            "id": d.pk,
            "uuid": str(d.uuid),
            "event_type": d.event_type,
            "state": d.state,
            "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at,
            "created_at": d.created_at,
            "delivered_at": d.delivered_at,
            "payload": d.payload,
            "tries": [
                {
                    "at": t.at,
                    "address": t.address,
                    "status_code": t.status_code,
                    "error": t.error,
                    "duration_ms": t.duration_ms,
                    "response_excerpt": t.response_excerpt,
                }
                for t in d.tries.all()
            ],
        }
        for d in rows
    ]
