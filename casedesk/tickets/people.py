"""Who works on a ticket: staff assignee, customer-side assignee, team, followers."""

from __future__ import annotations

from casedesk.common.errors import InvalidInput, Problem
from casedesk.desks.models import Team
from casedesk.workflow import unassign_problem

from .bridge import snapshot
from .changes import TicketChange, ticket_change
from .inputs import is_desk_staff
from .models import Participant, Ticket
from .permissions import authorise


def _may_unassign(change: TicketChange, which: str) -> None:
    problem = unassign_problem(change.wf, snapshot(change.ticket), which)
    if problem:
        field = "person" if which == "customer_assignee" else which
        raise InvalidInput({field: Problem.denied(problem)}, workflow=change.wf)


def ticket_assign(
    *, actor, ticket: Ticket, assignee, expected_version: int | None = None, channel: str = "web"
) -> Ticket:
    """Give the ticket to a staff member of its desk (or to nobody)."""
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb="ticket.assign",
        channel=channel,
    ) as change:
        if assignee is not None and not is_desk_staff(change.ticket.desk, assignee):
            raise InvalidInput({"assignee": Problem("ticket.assignee.not_staff")})
        if assignee is None and change.ticket.assignee_id is not None:
            _may_unassign(change, "assignee")
        change.assign(assignee.pk if assignee else None)
    return change.ticket


def ticket_assign_customer(
    *, actor, ticket: Ticket, person, expected_version: int | None = None, channel: str = "web"
) -> Ticket:
    """Name the person on the customer's side whose move it is (or nobody)."""
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb="ticket.assign_customer",
        channel=channel,
    ) as change:
        ticket = change.ticket
        if person is not None and not (
            person.is_active
            and person.is_customer
            and person.organisation_id == ticket.organisation_id
        ):
            raise InvalidInput({"person": Problem("ticket.customer_assignee.not_member")})
        if person is None and ticket.customer_assignee_id is not None:
            _may_unassign(change, "customer_assignee")
        change.assign_customer(person.pk if person else None)
    return change.ticket


def ticket_route(
    *,
    actor,
    ticket: Ticket,
    team: Team | None,
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb="ticket.route",
        channel=channel,
    ) as change:
        ticket = change.ticket
        if team is not None and team.desk_id != ticket.desk_id:
            raise InvalidInput({"team": Problem("ticket.team.unknown")})
        if (team.pk if team else None) != ticket.team_id:
            change.record(
                "routed",
                team=[
                    ticket.team.slug if ticket.team is not None else "",
                    team.slug if team else "",
                ],
            )
            ticket.team = team
    return change.ticket


def participant_add(*, actor, ticket: Ticket, person, channel: str = "web") -> Participant:
    """Let someone follow the ticket: a colleague of the customer, or desk staff."""
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=None,
        verb="participant.add",
        channel=channel,
    ) as change:
        ticket = change.ticket
        fits = person.is_active and (
            (person.is_customer and person.organisation_id == ticket.organisation_id)
            or (change.who.kind == "staff" and is_desk_staff(ticket.desk, person))
        )
        if not fits:
            raise InvalidInput({"person": Problem("ticket.follower.not_allowed")})
        participant, created = Participant.objects.get_or_create(
            ticket=ticket,
            user=person,
            defaults={"desk_id": ticket.desk_id, "added_by": actor, "created_at": change.now},
        )
        if created:
            change.record("participant_added", person=person.pk)
    return participant


def participant_remove(*, actor, ticket: Ticket, person, channel: str = "web") -> None:
    with ticket_change(
        user=actor, ticket_id=ticket.pk, expected_version=None, channel=channel
    ) as change:
        if change.who.kind == "customer" and person.pk != actor.pk:
            authorise(actor, "participant.add", change.ticket.desk)
        deleted, _ = Participant.objects.filter(ticket=change.ticket, user=person).delete()
        if deleted:
            change.record("participant_removed", person=person.pk)
