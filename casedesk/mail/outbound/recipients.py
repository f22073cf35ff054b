"""Who is told about a history entry, and as what. The rules of the mail channel:

- a new ticket: its reporter (the confirmation), every member of the organisation when
  the organisation asks for it, and the staff assignee if there already is one;
- a public comment: the reporter, the customer-side contact and the participants, with a
  copy to the responsible staff member (the assignee);
- an internal note: staff only (the assignee and staff participants);
- a move into a new place: the customers following the ticket; the people whose turn it
  now is get it as "waiting for you"; the assignee gets a copy when someone else moved it;
- a timer's warning: the people whose turn it is (or the assignee on the supplier's turn);
- an assignment, a customer-side contact, a new participant: the person concerned;
- an hour estimate that waits for a grant, a service sheet submitted for approval: the
  organisation's approvers.
- a quote sent: the organisation's people who may accept it (the workflow's approvers).

Nobody is told about their own action, except the reporter's confirmation of a new
ticket. Every recipient must be active, have an address and see the ticket *now*.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects

from casedesk.accounts.models import User
from casedesk.sheets.estimates import approvers_of
from casedesk.tickets.models import Comment, Participant, Ticket, TicketEvent
from casedesk.tickets.selectors import tickets_visible_to, workflow_of
from casedesk.workflow.quote import deciding_roles

# the preference (MailPreferences field) that lets a person turn each kind of mail off
PREFERENCE = {
    "created": "new_tickets",
    "created_for": "new_tickets",
    "created_org": "new_tickets",
    "created_staff": "new_tickets",
    "comment": "comments",
    "note": "comments",
    "status": "status_changes",
    "your_turn": "your_turn",
    "reminder": "reminders",
    "assigned": "assignments",
    "customer_assigned": "your_turn",
    "following": "status_changes",
    "approve_estimate": "your_turn",
    "approve_sheet": "your_turn",
    "quote_waiting": "your_turn",
}


@dataclass(frozen=True)
class Target:
    user: User
    kind: str  # a key of PREFERENCE
    # the ticket as checked for this person (reads about it for them need no second check)
    ticket: Ticket | None = field(default=None, compare=False)


def _followers_of(tickets: list[Ticket]) -> dict[int, list[User]]:
    """The participants of each ticket, for all of them in one statement."""
    found: dict[int, list[User]] = defaultdict(list)
    rows = Participant.objects.filter(ticket_id__in={t.pk for t in tickets})
    for p in rows.select_related("user__organisation").order_by("user__username", "user_id"):
        found[p.ticket_id].append(p.user)
    return found


def _people_whose_turn(ticket: Ticket) -> list[User]:
    person = ticket.customer_assignee or ticket.reporter
    return [person] if person else []


def _customers(ticket: Ticket, followers: list[User]) -> list[User]:
    people = [ticket.reporter]
    if ticket.customer_assignee is not None:
        people.append(ticket.customer_assignee)
    return people + [u for u in followers if u.is_customer]


def _staff(ticket: Ticket, followers: list[User]) -> list[User]:
    people = [ticket.assignee] if ticket.assignee is not None else []
    return people + [u for u in followers if u.is_supplier_staff]


def targets_for(event: TicketEvent) -> list[Target]:
    return targets_for_events([event])[event.pk]


def targets_for_events(events: list[TicketEvent]) -> dict[int, list[Target]]:
    """The targets of each entry (by id), with the people, their organisations, the
    followers and whether each person sees the ticket read once for all entries."""
    tickets = list({e.ticket_id: e.ticket for e in events}.values())
    prefetch_related_objects(
        tickets,
        "organisation",
        "reporter__organisation",
        "customer_assignee__organisation",
        "assignee__organisation",
    )
    followers = _followers_of(tickets) if any(e.kind in _READS_FOLLOWERS for e in events) else {}
    found = {e.pk: _eligible(_candidates(e, followers.get(e.ticket_id, [])), e) for e in events}
    # whether each person sees each ticket now: one statement per person
    wanted: dict[int, tuple[User, dict[int, Ticket]]] = {}
    for event in events:
        for target in found[event.pk]:
            wanted.setdefault(target.user.pk, (target.user, {}))[1][event.ticket_id] = event.ticket
    visible = {
        pk: tickets_visible_to(user=user, tickets=list(ts.values()))
        for pk, (user, ts) in wanted.items()
    }
    return {
        e.pk: [
            Target(t.user, t.kind, visible[t.user.pk][e.ticket_id])
            for t in found[e.pk]
            if e.ticket_id in visible[t.user.pk]
        ]
        for e in events
    }


_READS_FOLLOWERS = {"comment", "note", "transition"}


def _candidates(event: TicketEvent, followers: list[User]) -> list[Target]:
    ticket = event.ticket
    kind = event.kind
    data = event.data or {}
    found: list[Target] = []

    if kind == "created":
        reporter = ticket.reporter
        own = event.actor_id == reporter.pk
        found.append(Target(reporter, "created" if own else "created_for"))
        if ticket.organisation.notify_all_members_on_new:
            members = User.objects.filter(organisation=ticket.organisation_id, is_active=True)
            found += [Target(m, "created_org") for m in members.select_related("organisation")]
        if ticket.assignee is not None:
            found.append(Target(ticket.assignee, "created_staff"))
    elif kind == "comment":
        found += [Target(u, "comment") for u in _customers(ticket, followers)]
        found += [Target(u, "comment") for u in _staff(ticket, followers)]
    elif kind == "note":
        found += [Target(u, "note") for u in _staff(ticket, followers)]
    elif kind == "transition":
        before, after = data.get("from") or {}, data.get("to") or {}
        if before == after:
            return []
        wf = workflow_of(ticket)
        turn = wf.turn_at(after.get("status", ""), after.get("sub_status", ""))
        if turn == "customer":
            found += [Target(u, "your_turn") for u in _people_whose_turn(ticket)]
        found += [Target(u, "status") for u in _customers(ticket, followers)]
        if ticket.assignee is not None and ticket.assignee_id != event.actor_id:
            found.append(Target(ticket.assignee, "status"))
    elif kind == "quote_sent":  # the people who may accept or decline it
        roles = deciding_roles(workflow_of(ticket))
        approvers = User.objects.filter(
            organisation=ticket.organisation_id, is_active=True, customer_role__in=roles
        )
        found += [Target(u, "quote_waiting") for u in approvers.select_related("organisation")]
    elif kind == "timer_warning":
        if ticket.turn == "customer":
            found += [Target(u, "reminder") for u in _people_whose_turn(ticket)]
        elif ticket.assignee is not None:
            found.append(Target(ticket.assignee, "reminder"))
    elif kind in ("assigned", "customer_assigned", "participant_added"):
        field = {"assigned": "assignee", "customer_assigned": "customer_assignee"}.get(kind)
        person_id = data.get(field, [None, None])[1] if field else data.get("person")
        people = User.objects.filter(pk=person_id) if person_id is not None else User.objects.none()
        person = people.select_related("organisation").first()
        if person is not None:
            found.append(Target(person, "following" if kind == "participant_added" else kind))
    elif (kind == "estimate_set" and data.get("awaiting")) or kind == "sheet_submitted":
        what = "approve_estimate" if kind == "estimate_set" else "approve_sheet"
        found += [Target(u, what) for u in _approvers(ticket)]

    return found


def _approvers(ticket: Ticket) -> list[User]:
    return list(approvers_of(ticket))


def _eligible(found: list[Target], event: TicketEvent) -> list[Target]:
    """Once per person (the first, most specific reason wins), never the actor (except a
    reporter's own confirmation), only people with an address (who must then see the
    ticket now: targets_for_events)."""
    seen: set[int] = set()
    kept: list[Target] = []
    for target in found:
        user = target.user
        if user.pk in seen:
            continue
        seen.add(user.pk)
        if user.pk == event.actor_id and target.kind != "created":
            continue
        if not (user.is_active and user.email):
            continue
        if event.kind == "note" and not user.is_supplier_staff:
            continue  # internal notes never reach customers, whatever else happens
        kept.append(target)
    return kept


def comment_of(event: TicketEvent) -> Comment | None:
    return comments_of([event]).get(event.pk)


def comments_of(events: list[TicketEvent]) -> dict[int, Comment]:
    """The comment each entry is about (by entry id), with its attachments, read at once."""
    wanted = {e.pk: (e.data or {}).get("comment") for e in events}
    ids = {c for c in wanted.values() if c}
    if not ids:
        return {}
    rows = {c.pk: c for c in Comment.objects.filter(pk__in=ids).prefetch_related("attachments")}
    found = {}
    for event in events:
        comment = rows.get(wanted[event.pk] or 0)
        if comment is not None and comment.ticket_id == event.ticket_id:
            found[event.pk] = comment
    return found
