"""From ticket history to webhook deliveries.

The outbox hands over history entries in order, in the worker; each becomes zero or more
event types, and each type a delivery per active subscription of the ticket's desk that
wants it. A unique constraint per (subscription, entry, type) makes this idempotent. The
payload is written now, so a retry tomorrow sends what happened, not what is true then.
Internal notes never become events; comments are public ones only.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from casedesk.common import clock
from casedesk.desks.models import WorkflowVersion
from casedesk.releases.models import Deployment
from casedesk.tickets.models import Comment, TicketEvent
from casedesk.tickets.selectors import workflow_of

from .models import WebhookDelivery, WebhookSubscription

KINDS = {"created", "transition", "comment", "assigned", "sla_warning", "sla_breached"}
# the service sheet's moves and the hour estimate (casedesk.sheets)
SHEET_KINDS = {"sheet_submitted", "sheet_approved", "sheet_returned", "sheet_invoiced"}
ESTIMATE_KINDS = {"estimate_set", "estimate_granted"}
KINDS |= SHEET_KINDS | ESTIMATE_KINDS
KINDS |= {"quote_sent", "quote_accepted", "quote_declined"}  # quote.sent, .accepted, .declined


def event_types(event: TicketEvent) -> list[str]:
    data = event.data
    if event.kind == "created":
        return ["ticket.created"]
    if event.kind == "comment" and event.public:
        return ["ticket.commented"]
    if event.kind == "assigned":
        return ["ticket.assigned"] if (data.get("assignee") or [None, None])[1] else []
    if event.kind in ("sla_warning", "sla_breached"):  # news the workflow did not act on
        return [f"ticket.{event.kind}"]
    if event.kind in SHEET_KINDS:
        return [event.kind.replace("_", ".", 1)]
    if event.kind == "estimate_set":
        return ["estimate.set", *(["estimate.withdrawn"] if data.get("withdrawn") else [])]
    if event.kind == "estimate_granted":
        return ["estimate.granted"]
    if event.kind.startswith("quote_"):
        return [f"quote.{event.kind.removeprefix('quote_')}"]
    if event.kind != "transition":
        return []
    types = ["ticket.status_changed"]
    cause = data.get("cause") or {}
    if "timer" in cause:
        types.append("ticket.timer_fired")
    if cause.get("event") in ("sla_warning", "sla_breached"):
        types.append(f"ticket.{cause['event']}")
    if (data.get("assignee") or [None, None])[1]:
        types.append("ticket.assigned")
    return types


def _change(event: TicketEvent, event_type: str, comments: dict[int, Comment]) -> dict:
    data = event.data
    if event_type == "ticket.created":
        return {k: data.get(k) for k in ("title", "type", "priority", "status", "sub_status")}
    if event_type == "ticket.commented":
        comment = comments.get(data.get("comment"))
        return {
            "comment": {
                "id": data.get("comment"),
                "body": comment.body if comment else "",
            }
        }
    if event_type == "ticket.assigned":
        before, after = data.get("assignee") or [None, None]
        return {"assignee": {"from": before, "to": after}}
    if event.kind in ("sla_warning", "sla_breached"):
        return {"cause": {"event": event.kind, **data}}
    if event.kind in SHEET_KINDS:
        return {
            "sheet": {k: data.get(k) for k in ("sheet", "cycle")}
            | {
                "state": event.kind.removeprefix("sheet_"),
                **{k: data[k] for k in ("approves_automatically_at", "invoice_run") if k in data},
            }
        }
    if event.kind == "estimate_set":
        before, after = data.get("hours") or [None, None]
        return {
            "estimate": {
                "hours": {"from": before, "to": after},
                "granted_hours": data.get("granted"),
                "withdrawn": bool(data.get("withdrawn")),
                "awaiting_grant": bool(data.get("awaiting")),
            }
        }
    if event.kind == "estimate_granted":
        return {"estimate": {"granted_hours": data.get("hours"), "before": data.get("before")}}
    if event.kind.startswith("quote_"):
        return {"quote": dict(data)}
    change = {k: data[k] for k in ("transition", "from", "to") if k in data}
    if "cause" in data:
        change["cause"] = data["cause"]
    return change


def payload_for(event: TicketEvent, event_type: str, delivery_id, comments) -> dict:
    ticket = event.ticket
    wf = workflow_of(ticket)
    lang = wf.languages[0]
    actor = event.actor
    return {
        "id": str(delivery_id),
        "type": event_type,
        "occurred_at": event.at.isoformat(),
        "desk": {"id": ticket.desk_id, "key_prefix": ticket.key.rsplit("-", 1)[0]},
        "ticket": {
            "key": ticket.key,
            "title": ticket.title,
            "status": ticket.status,
            "sub_status": ticket.sub_status,
            "status_label": wf.place_label(ticket.status, ticket.sub_status, lang),
            "category": ticket.category,
            "turn": ticket.turn,
            "priority": ticket.priority,
            "type": ticket.type,
            "organisation": ticket.organisation_id,
            "version": ticket.version,
            "url": f"{settings.BASE_URL}/api/v1/tickets/{ticket.key}",
        },
        "actor": {
            "kind": event.actor_kind,
            "id": actor.pk if actor else None,
            "name": str(actor) if actor else "",
        },
        "change": _change(event, event_type, comments),
    }


def deliveries_prepare(events: list[TicketEvent]) -> None:
    """The outbox handler: one delivery per event type and interested subscription."""
    typed = [(e, t) for e in events for t in event_types(e)]
    if not typed:
        return
    subscriptions: dict[int, list[WebhookSubscription]] = {}
    for sub in WebhookSubscription.objects.filter(
        desk_id__in={e.desk_id for e, _ in typed}, active=True
    ):
        subscriptions.setdefault(sub.desk_id, []).append(sub)
    # each ticket's workflow by its checksum: compiled once per process, read in one query
    checksums = dict(
        WorkflowVersion.objects.filter(pk__in={e.ticket.workflow_id for e, _ in typed}).values_list(
            "pk", "checksum"
        )
    )
    for event, _ in typed:
        event.ticket.workflow_checksum = checksums[event.ticket.workflow_id]
    comment_ids = [e.data.get("comment") for e, t in typed if t == "ticket.commented"]
    comments = {c.pk: c for c in Comment.objects.filter(pk__in=comment_ids, internal=False)}
    now = clock.now()
    rows = []
    for event, event_type in typed:
        for sub in subscriptions.get(event.desk_id, []):
            if not sub.wants(event_type):
                continue
            delivery_id = uuid.uuid4()
            rows.append(
                WebhookDelivery(
                    subscription=sub,
                    event=event,
                    event_type=event_type,
                    uuid=delivery_id,
                    payload=payload_for(event, event_type, delivery_id, comments),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)


def deployment_payload(deployment: Deployment, delivery_id) -> dict:
    env, release, actor = deployment.environment, deployment.release, deployment.recorded_by
    return {
        "id": str(delivery_id),
        "type": "release.deployed",
        "occurred_at": deployment.deployed_at.isoformat(),
        "desk": {"id": deployment.desk_id, "key_prefix": deployment.desk.key_prefix},
        "deployment": {
            "id": deployment.pk,
            "pipeline_id": deployment.pipeline_id,
            "deployed_at": deployment.deployed_at.isoformat(),
            "received_at": deployment.received_at.isoformat(),
            # a late event for an older deployment leaves the environment running the newer
            "current": env.current_id == deployment.pk,
        },
        "environment": {"id": env.pk, "name": env.name, "tier": env.tier},
        "organisation": {"id": deployment.organisation_id, "slug": env.organisation.slug},
        "release": {
            "id": release.pk,
            "version": release.version,
            "line": release.line.name,
            "published_on": release.published_on.isoformat() if release.published_on else None,
        },
        "actor": {
            "kind": "staff" if actor else "system",
            "id": actor.pk if actor else None,
            "name": str(actor) if actor else "",
        },
    }


def deployment_deliveries_prepare(deployment: Deployment) -> None:
    """A release reached an environment: one delivery per interested subscription of the
    desk, made in the deployment's own transaction (a deployment sent again is not new, so
    it is told once). The tickets it moves come later as their own `ticket.status_changed`."""
    subs = [
        s
        for s in WebhookSubscription.objects.filter(desk_id=deployment.desk_id, active=True)
        if s.wants("release.deployed")
    ]
    if not subs:
        return
    deployment = Deployment.objects.select_related(
        "desk", "environment__organisation", "release__line", "recorded_by"
    ).get(pk=deployment.pk)
    now = clock.now()
    rows = []
    for sub in subs:
        delivery_id = uuid.uuid4()
        rows.append(
            WebhookDelivery(
                subscription=sub,
                event=None,
                event_type="release.deployed",
                uuid=delivery_id,
                payload=deployment_payload(deployment, delivery_id),
                next_attempt_at=now,
                created_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(rows)
