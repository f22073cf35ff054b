"""Webhook subscriptions: made, changed and read by the desk's admins only."""

from __future__ import annotations

import secrets

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.desks.models import Desk, StaffMembership
from casedesk.tickets.permissions import authorise

from . import net
from .models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from .sending import allowed_networks

TYPES = [key for key, _ in EVENT_TYPES]


def _clean(errors: dict, url: str | None, events: list[str] | None) -> None:
    if url is not None:
        try:
            _, host, _, _ = net.check_url(url)
            local = host.lower().rstrip(".") in ("localhost", "localhost.localdomain")
            local = local or host.lower().rstrip(".").endswith(".localhost")
            allowed = allowed_networks()
            if local or any(not net.address_allowed(ip, allowed) for ip in net.literal(host)):
                raise net.Refused("webhook.url.private", host=host)
        except net.Refused as exc:
            errors["url"] = exc.problem
    if events is not None:
        unknown = sorted(set(events) - set(TYPES))
        if unknown:
            errors["events"] = Problem("webhook.events.unknown", unknown=unknown, known=list(TYPES))


def subscription_create(
    *, actor, desk: Desk, url: str, events: list[str] | None = None, description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A subscription and its signing secret, which is shown only this once."""
    authorise(actor, "desk.webhooks", desk)
    errors: dict[str, Problem] = {}
    _clean(errors, url, events or [])
    if errors:
        raise InvalidInput(errors)
    secret = secrets.token_hex(32)
    sub = WebhookSubscription.objects.create(
        desk=desk,
        url=url,
        description=(description or "")[:200],
        events=sorted(set(events or [])),
        secret=secret,
        created_by=actor,
        created_at=clock.now(),
    )
    return sub, secret


def subscription_update(
    *,
    actor,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change a subscription; switching it on again clears its failure count."""
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        authorise(actor, "desk.webhooks", sub.desk)
        errors: dict[str, Problem] = {}
        _clean(errors, url, events)
        if errors:
            raise InvalidInput(errors)
        if url is not None:
            sub.url = url
        if events is not None:
            sub.events = sorted(set(events))
        if description is not None:
            sub.description = description[:200]
        if active is True and not sub.active:
            sub.active, sub.consecutive_failures = True, 0
            sub.disabled_at, sub.disabled_reason = None, ""
        elif active is False:
            sub.active = False
        sub.save()
    return sub


def subscription_delete(*, actor, subscription: WebhookSubscription) -> None:
    authorise(actor, "desk.webhooks", subscription.desk)
    subscription.delete()


def subscriptions_visible_to(user):
    """The subscriptions of the desks this person administers."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return WebhookSubscription.objects.none()
    rows = WebhookSubscription.objects.select_related("desk")
    if user.is_superuser:
        return rows
    if not user.is_supplier_staff:
        return rows.none()
    desks = StaffMembership.objects.filter(user=user, role="admin").values("desk_id")
    return rows.filter(desk_id__in=desks)


def subscriptions_for_desk(*, user, desk: Desk) -> list[WebhookSubscription]:
    authorise(user, "desk.webhooks", desk)
    return list(subscriptions_visible_to(user).filter(desk=desk))


def subscription_get_for_actor(*, user, subscription_id: int) -> WebhookSubscription:
    found = subscriptions_visible_to(user).filter(pk=subscription_id).first()
    if found is None:
        raise NotFound("webhook.not_found")
    return found


def deliveries_for(*, user, subscription: WebhookSubscription, limit: int = 50, before=None):
    """The delivery log, newest first, with every attempt."""
    subscription_get_for_actor(user=user, subscription_id=subscription.pk)
    rows = WebhookDelivery.objects.filter(subscription=subscription).prefetch_related("tries")
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return list(rows.order_by("-id")[:limit])
