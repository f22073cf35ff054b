"""Between the database and the pure workflow engine: tickets to snapshots, people to
actors, and engine outcomes back onto ticket rows."""

from __future__ import annotations

from datetime import datetime

from casedesk.common.errors import NotFound
from casedesk.desks.models import Desk, StaffMembership, compiled_workflow
from casedesk.workflow import SYSTEM_ACTOR, Actor, Outcome, Snapshot, Workflow

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
        raise NotFound("no such ticket")
    if user.is_superuser:
        return Actor("staff", "admin", user.pk)
    if user.is_supplier_staff:
        role = (
            StaffMembership.objects.filter(desk=desk, user=user)
            .values_list("role", flat=True)
            .first()
        )
        if role is None:
            raise NotFound("no such ticket")
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


def apply_outcome(
    ticket: Ticket, wf: Workflow, outcome: Outcome, actor: Actor, now: datetime
) -> dict:
    """Write an allowed transition onto the ticket row; return what changed, for history."""
    changes: dict = {}
    before = (ticket.status, ticket.sub_status)
    ticket.previous_status, ticket.previous_sub = outcome.previous_status, outcome.previous_sub
    set_place(ticket, wf, outcome.status, outcome.sub_status, now)
    changes["from"] = {"status": before[0], "sub_status": before[1]}
    changes["to"] = {"status": ticket.status, "sub_status": ticket.sub_status}
    if outcome.priority != ticket.priority:
        changes["priority"] = [ticket.priority, outcome.priority]
        ticket.priority = outcome.priority
    if outcome.flags != frozenset(ticket.flags):
        changes["flags"] = [sorted(ticket.flags), sorted(outcome.flags)]
        ticket.flags = sorted(outcome.flags)
    if outcome.assignee != "keep":
        new = actor.user_id if outcome.assignee == "actor" else None
        if new != ticket.assignee_id:
            changes["assignee"] = [ticket.assignee_id, new]
            ticket.assignee_id = new
    if outcome.customer_assignee != "keep":
        new = {
            "reporter": ticket.reporter_id,
            "actor": actor.user_id,
            "none": None,
        }[outcome.customer_assignee]
        if new != ticket.customer_assignee_id:
            changes["customer_assignee"] = [ticket.customer_assignee_id, new]
            ticket.customer_assignee_id = new
    current_team = ticket.team.slug if ticket.team is not None else ""
    if outcome.team != current_team:
        changes["team"] = [current_team, outcome.team]
        ticket.team = team_by_slug(ticket.desk, wf, outcome.team) if outcome.team else None
    if outcome.field_changes:
        fields = dict(ticket.fields)
        changed = {}
        for name, value in outcome.field_changes.items():
            old = fields.get(name)
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = str(value).strip() if not isinstance(value, int | float) else value
            if fields.get(name) != old:
                changed[name] = [old, fields.get(name)]
        ticket.fields = fields
        if changed:
            changes["fields"] = changed
    if outcome.cycle != ticket.cycle:
        changes["cycle"] = outcome.cycle
    ticket.cycle = outcome.cycle
    ticket.progress_rank = outcome.progress_rank
    return changes


def team_by_slug(desk: Desk, wf: Workflow, slug: str):
    from casedesk.desks.models import Team

    team, _ = Team.objects.get_or_create(
        desk=desk, slug=slug, defaults={"name": wf.text(wf.teams[slug].label, wf.languages[0])}
    )
    return team
