"""Between the database and the pure workflow engine: tickets to snapshots, people to
actors, and engine outcomes back onto ticket rows."""

from __future__ import annotations

from datetime import datetime

from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk, compiled_workflow
from casedesk.desks.roles import roles_of
from casedesk.workflow import SYSTEM_ACTOR, Actor, Snapshot, Workflow

from .models import Ticket


def workflow_of(ticket: Ticket) -> Workflow:
    """The ticket's workflow version; lists annotate its checksum to skip the join."""
    checksum = getattr(ticket, "workflow_checksum", None)
    if checksum is not None:
        return compiled_workflow(checksum)
    return ticket.workflow.workflow


def actor_for(user, desk: Desk) -> Actor:
    """The engine's view of `user` on `desk`. Staff without a role on the desk have none."""
    if user is None:
        return SYSTEM_ACTOR
    if not user.is_active:
        raise NotFound("ticket.not_found")
    if user.is_superuser:
        return Actor("staff", "admin", user.pk)
    if user.is_supplier_staff:
        role = roles_of(user).get(desk.pk)
        if role is None:
            raise NotFound("ticket.not_found")
        return Actor("staff", role, user.pk)
    return Actor("customer", user.customer_role, user.pk)


def snapshot(ticket: Ticket) -> Snapshot:
    return Snapshot(
        status=ticket.status,
        sub_status=ticket.sub_status,
        type=ticket.type,
        priority=ticket.priority,
        fields=dict(ticket.fields),
        reporter_id=ticket.reporter_id,
        assignee_id=ticket.assignee_id,
        customer_assignee_id=ticket.customer_assignee_id,
        team=ticket.team.slug if ticket.team is not None else "",
        flags=frozenset(ticket.flags),
        entered_at=ticket.status_entered_at,
        last_activity_at=ticket.last_activity_at,
        awaiting_reply_since=ticket.awaiting_reply_since,
        previous_status=ticket.previous_status,
        previous_sub=ticket.previous_sub,
        progress_rank=ticket.progress_rank,
        cycle=ticket.cycle,
    )


def set_place(ticket: Ticket, wf: Workflow, status: str, sub: str, now: datetime) -> None:
    """Move the ticket and copy the place's category, turn and activity onto the row."""
    if (status, sub) != (ticket.status, ticket.sub_status):
        ticket.status_entered_at = now
    ticket.status, ticket.sub_status = status, sub
    place = wf.statuses[status]
    ticket.category = place.category
    ticket.turn = wf.turn_at(status, sub)
    ticket.active = wf.active_at(status, sub)
    ticket.closed_at = (ticket.closed_at or now) if place.final else None


def store(ticket: Ticket, wf: Workflow, before: Snapshot, snap: Snapshot) -> dict:
    """Write the engine's snapshot of the ticket onto its row; return what changed, for
    history. This is the only way an engine outcome reaches the database."""
    changes: dict = {
        "from": {"status": before.status, "sub_status": before.sub_status},
        "to": {"status": snap.status, "sub_status": snap.sub_status},
    }
    set_place(ticket, wf, snap.status, snap.sub_status, snap.entered_at)
    ticket.previous_status, ticket.previous_sub = snap.previous_status, snap.previous_sub
    if snap.priority != before.priority:
        changes["priority"] = [before.priority, snap.priority]
    if snap.flags != before.flags:
        changes["flags"] = [sorted(before.flags), sorted(snap.flags)]
    if snap.assignee_id != before.assignee_id:
        changes["assignee"] = [before.assignee_id, snap.assignee_id]
    if snap.customer_assignee_id != before.customer_assignee_id:
        changes["customer_assignee"] = [before.customer_assignee_id, snap.customer_assignee_id]
    if snap.team != before.team:
        changes["team"] = [before.team, snap.team]
        ticket.team = team_by_slug(ticket.desk, wf, snap.team) if snap.team else None
    fields = {
        name: [before.fields.get(name), snap.fields.get(name)]
        for name in sorted({*before.fields, *snap.fields})
        if before.fields.get(name) != snap.fields.get(name)
    }
    if fields:
        changes["fields"] = fields
    if snap.cycle != before.cycle:
        changes["cycle"] = snap.cycle
    ticket.priority = snap.priority
    ticket.flags = sorted(snap.flags)
    ticket.assignee_id = snap.assignee_id
    ticket.customer_assignee_id = snap.customer_assignee_id
    ticket.fields = dict(snap.fields)
    ticket.cycle = snap.cycle
    ticket.progress_rank = snap.progress_rank
    ticket.last_activity_at = snap.last_activity_at
    ticket.awaiting_reply_since = snap.awaiting_reply_since
    return changes


def team_by_slug(desk: Desk, wf: Workflow, slug: str):
    from casedesk.desks.models import Team

    team, _ = Team.objects.get_or_create(
        desk=desk, slug=slug, defaults={"name": wf.text(wf.teams[slug].label, wf.languages[0])}
    )
    return team
