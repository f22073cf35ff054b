"""Who works on a ticket: staff assignee, customer-side assignee, team, followers."""

from __future__ import annotations

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import InvalidInput
from casedesk.desks.models import Team
from casedesk.workflow import unassign_problem

from .bridge import actor_for, snapshot, workflow_of
from .changes import finish, fire_event, lock_ticket, record
from .inputs import is_desk_staff
from .models import Participant, Ticket
from .permissions import authorise


def _may_unassign(ticket: Ticket, which: str) -> None:
    problem = unassign_problem(workflow_of(ticket), snapshot(ticket), which)
    if problem:
        raise InvalidInput({"person" if which == "customer_assignee" else which: problem})


def ticket_assign(
    *, actor, ticket: Ticket, assignee, expected_version: int | None = None, channel: str = "web"
) -> Ticket:
    """Give the ticket to a staff member of its desk (or to nobody)."""
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "ticket.assign", ticket.desk)
        if assignee is not None and not is_desk_staff(ticket.desk, assignee):
            raise InvalidInput({"assignee": "not a staff member of this desk"})
        new = assignee.pk if assignee else None
        if new == ticket.assignee_id:
            return ticket
        if new is None:
            _may_unassign(ticket, "assignee")
        record(
            ticket,
            actor=who,
            kind="assigned",
            channel=channel,
            now=now,
            assignee=[ticket.assignee_id, new],
        )
        ticket.assignee_id = new
        if new is not None:
            fire_event(ticket, "assigned", channel=channel, now=now)
        finish(ticket, now)
    return ticket


def ticket_assign_customer(
    *, actor, ticket: Ticket, person, expected_version: int | None = None, channel: str = "web"
) -> Ticket:
    """Name the person on the customer's side whose move it is (or nobody)."""
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "ticket.assign_customer", ticket.desk)
        if person is not None and not (
            person.is_active
            and person.is_customer
            and person.organisation_id == ticket.organisation_id
        ):
            raise InvalidInput({"person": "not a person of the ticket's organisation"})
        new = person.pk if person else None
        if new == ticket.customer_assignee_id:
            return ticket
        if new is None:
            _may_unassign(ticket, "customer_assignee")
        record(
            ticket,
            actor=who,
            kind="customer_assigned",
            channel=channel,
            now=now,
            customer_assignee=[ticket.customer_assignee_id, new],
        )
        ticket.customer_assignee_id = new
        finish(ticket, now)
    return ticket


def ticket_route(
    *,
    actor,
    ticket: Ticket,
    team: Team | None,
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "ticket.route", ticket.desk)
        if team is not None and team.desk_id != ticket.desk_id:
            raise InvalidInput({"team": "not a team of this desk"})
        new = team.pk if team else None
        if new == ticket.team_id:
            return ticket
        record(
            ticket,
            actor=who,
            kind="routed",
            channel=channel,
            now=now,
            team=[ticket.team.slug if ticket.team_id else "", team.slug if team else ""],
        )
        ticket.team = team
        finish(ticket, now)
    return ticket


def participant_add(*, actor, ticket: Ticket, person, channel: str = "web") -> Participant:
    """Let someone follow the ticket: a colleague of the customer, or desk staff."""
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, None)
        who = authorise(actor, "participant.add", ticket.desk)
        fits = person.is_active and (
            (person.is_customer and person.organisation_id == ticket.organisation_id)
            or (who.kind == "staff" and is_desk_staff(ticket.desk, person))
        )
        if not fits:
            raise InvalidInput({"person": "not someone who may follow this ticket"})
        participant, created = Participant.objects.get_or_create(
            ticket=ticket,
            user=person,
            defaults={"desk_id": ticket.desk_id, "added_by": actor, "created_at": now},
        )
        if created:
            record(
                ticket,
                actor=who,
                kind="participant_added",
                channel=channel,
                now=now,
                person=person.pk,
            )
            finish(ticket, now)
    return participant


def participant_remove(*, actor, ticket: Ticket, person, channel: str = "web") -> None:
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, None)
        who = actor_for(actor, ticket.desk)
        if who.kind == "customer" and person.pk != actor.pk:
            authorise(actor, "participant.add", ticket.desk)
        deleted, _ = Participant.objects.filter(ticket=ticket, user=person).delete()
        if deleted:
            record(
                ticket,
                actor=who,
                kind="participant_removed",
                channel=channel,
                now=now,
                person=person.pk,
            )
            finish(ticket, now)
