"""Every change to a ticket, one function each: the only place its rules live.

Each service takes the acting user (None for the system), checks that they may see the
ticket and do the change, runs in one transaction, records history, and sets the ticket's
timer again. Callers pass `expected_version` from what they showed the person, so a change
made meanwhile by someone else is refused with StaleTicket instead of being overwritten.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from casedesk.common import clock
from casedesk.common.errors import Forbidden, InvalidInput, StaleTicket
from casedesk.desks.models import Desk, StaffMembership, Team
from casedesk.workflow import Given, field_problem

from .bridge import actor_for, set_place, workflow_of
from .changes import finish, fire_event, lock_ticket, move, record, reset_timer
from .models import Comment, Participant, Ticket, TicketLink
from .permissions import authorise, ensure_desk_visible

MAX_TITLE = 300
MAX_TEXT = 100_000


def _text(errors: dict, name: str, value: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = "this cannot be empty"
    elif len(value) > limit:
        errors[name] = f"at most {limit} characters"
    elif "\x00" in value:
        errors[name] = "contains a NUL character"
    return value


def _check_fields(wf, values: dict, *, customer: bool) -> dict[str, str]:
    errors = {}
    for name, value in values.items():
        problem = field_problem(wf, name, value)
        if problem:
            errors[f"fields.{name}"] = problem
        elif customer and not wf.fields[name].customer_visible:
            errors[f"fields.{name}"] = "you may not set this field"
    return errors


def _staff_of(desk: Desk, user) -> bool:
    return (
        user.is_active
        and user.is_supplier_staff
        and (user.is_superuser or StaffMembership.objects.filter(desk=desk, user=user).exists())
    )


# -- create ---------------------------------------------------------------------------


def ticket_create(
    *,
    actor,
    desk: Desk,
    title: str,
    description: str = "",
    type: str | None = None,
    priority: str | None = None,
    reporter=None,
    fields: dict | None = None,
    channel: str = "web",
) -> Ticket:
    """Open a ticket: a customer for themselves, or staff for a customer (`reporter`)."""
    ensure_desk_visible(actor, desk)
    wf = desk.workflow.workflow
    errors: dict[str, str] = {}
    title = _text(errors, "title", title, required=True, limit=MAX_TITLE)
    description = _text(errors, "description", description, required=False, limit=MAX_TEXT)
    type = type or wf.default_type
    priority = priority or wf.default_priority
    if type not in wf.types:
        errors["type"] = f"'{type}' is not a ticket type of this desk"
    elif actor.is_customer and not wf.types[type].customer_may_create:
        errors["type"] = f"customers cannot open tickets of type '{type}'"
    if priority not in wf.priorities:
        errors["priority"] = f"'{priority}' is not a priority of this desk"
    fields = dict(fields or {})
    errors.update(_check_fields(wf, fields, customer=actor.is_customer))

    if actor.is_customer:
        authorise(actor, "ticket.create", desk)
        if reporter is not None and reporter.pk != actor.pk:
            raise Forbidden("customers open tickets for themselves")
        reporter = actor
    else:
        authorise(actor, "ticket.create_for_customer", desk)
        if reporter is None:
            errors["reporter"] = "choose the customer this ticket is for"
        elif not (reporter.is_active and reporter.is_customer):
            errors["reporter"] = "the reporter must be an active customer"
        elif not desk.organisations.filter(pk=reporter.organisation_id).exists():
            errors["reporter"] = "this customer's organisation does not use this desk"
    if errors:
        raise InvalidInput(errors)

    now = clock.now()
    with transaction.atomic():
        # The counter row is locked until commit, so numbers are unique and gapless.
        Desk.objects.filter(pk=desk.pk).update(next_number=F("next_number") + 1)
        number = Desk.objects.values_list("next_number", flat=True).get(pk=desk.pk) - 1
        initial = wf.statuses[wf.initial]
        ticket = Ticket(
            desk=desk,
            number=number,
            key=f"{desk.key_prefix}-{number}",
            workflow_id=desk.workflow_id,
            organisation_id=reporter.organisation_id,
            reporter=reporter,
            created_by=actor,
            channel=channel,
            type=type,
            priority=priority,
            title=title,
            description=description,
            fields={k: v for k, v in fields.items() if v not in (None, "")},
            progress_rank=initial.rank or 0,
            created_at=now,
            updated_at=now,
            status_entered_at=now,
            last_activity_at=now,
        )
        set_place(ticket, wf, wf.initial, initial.default_sub or "", now)
        ticket.save()
        record(
            ticket,
            actor=actor_for(actor, desk),
            kind="created",
            channel=channel,
            now=now,
            title=title,
            type=type,
            priority=priority,
            status=ticket.status,
            sub_status=ticket.sub_status,
            reporter=reporter.pk,
        )
        reset_timer(ticket, wf)
    return ticket


# -- conversation ---------------------------------------------------------------------


def comment_add(
    *,
    actor,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    channel: str = "web",
    expected_version: int | None = None,
) -> Comment:
    """A public comment, or (staff only) an internal note. A customer's comment may move
    the ticket, when the workflow says so (`customer_commented`)."""
    errors: dict[str, str] = {}
    body = _text(errors, "body", body, required=True, limit=MAX_TEXT)
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "note.add" if internal else "comment.add", ticket.desk)
        comment = Comment.objects.create(
            ticket=ticket,
            desk_id=ticket.desk_id,
            author=actor,
            body=body,
            internal=internal,
            channel=channel,
            created_at=now,
        )
        record(
            ticket,
            actor=who,
            kind="note" if internal else "comment",
            channel=channel,
            now=now,
            public=not internal,
            comment=comment.pk,
        )
        if not internal:
            ticket.last_activity_at = now
            if who.kind == "customer":
                ticket.awaiting_reply_since = ticket.awaiting_reply_since or now
            else:
                ticket.awaiting_reply_since = None
            event = "customer_commented" if who.kind == "customer" else "staff_commented"
            fire_event(ticket, event, channel=channel, now=now, cause={"comment": comment.pk})
        finish(ticket, now)
    return comment


# -- workflow -------------------------------------------------------------------------


def ticket_transition(
    *,
    actor,
    ticket: Ticket,
    transition: str,
    comment: str = "",
    comment_internal: bool = False,
    sub_status: str | None = None,
    fields: dict | None = None,
    assignee=None,
    customer_assignee=None,
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    """Make a workflow transition, with what it requires (comment, fields, assignees)."""
    errors: dict[str, str] = {}
    comment = _text(errors, "comment", comment, required=False, limit=MAX_TEXT)
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = actor_for(actor, ticket.desk)
        wf = workflow_of(ticket)
        if comment_internal and who.kind != "staff":
            raise Forbidden("only staff write internal notes")
        fields = dict(fields or {})
        if who.kind == "customer":
            errors.update(
                _check_fields(
                    wf, {k: v for k, v in fields.items() if k in wf.fields}, customer=True
                )
            )
        if assignee is not None and not _staff_of(ticket.desk, assignee):
            errors["assignee"] = "not a staff member of this desk"
        if customer_assignee is not None and not (
            customer_assignee.is_active
            and customer_assignee.organisation_id == ticket.organisation_id
        ):
            errors["customer_assignee"] = "not a person of the ticket's organisation"
        if errors:
            raise InvalidInput(errors)
        given = Given(
            comment=comment,
            sub_status=sub_status,
            fields=fields,
            assignee_id=assignee.pk if assignee else None,
            customer_assignee_id=customer_assignee.pk if customer_assignee else None,
        )
        comment_row = None
        if comment:
            comment_row = Comment.objects.create(
                ticket=ticket,
                desk_id=ticket.desk_id,
                author=actor,
                body=comment,
                internal=comment_internal,
                channel=channel,
                created_at=now,
            )
        if assignee is not None and ticket.assignee_id != assignee.pk:
            record(
                ticket,
                actor=who,
                kind="assigned",
                channel=channel,
                now=now,
                assignee=[ticket.assignee_id, assignee.pk],
            )
            ticket.assignee = assignee
        if customer_assignee is not None and ticket.customer_assignee_id != customer_assignee.pk:
            record(
                ticket,
                actor=who,
                kind="customer_assigned",
                channel=channel,
                now=now,
                customer_assignee=[ticket.customer_assignee_id, customer_assignee.pk],
            )
            ticket.customer_assignee = customer_assignee
        move(
            ticket,
            actor=who,
            transition=transition,
            given=given,
            channel=channel,
            now=now,
            comment_id=comment_row.pk if comment_row else None,
        )
        finish(ticket, now)
    return ticket


# -- people ----------------------------------------------------------------------------


def ticket_assign(
    *, actor, ticket: Ticket, assignee, expected_version: int | None = None, channel: str = "web"
) -> Ticket:
    """Give the ticket to a staff member of its desk (or to nobody)."""
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "ticket.assign", ticket.desk)
        if assignee is not None and not _staff_of(ticket.desk, assignee):
            raise InvalidInput({"assignee": "not a staff member of this desk"})
        new = assignee.pk if assignee else None
        if new == ticket.assignee_id:
            return ticket
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
            or (who.kind == "staff" and _staff_of(ticket.desk, person))
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


# -- fields ------------------------------------------------------------------------------


def ticket_edit(
    *,
    actor,
    ticket: Ticket,
    title: str | None = None,
    priority: str | None = None,
    type: str | None = None,
    fields: dict | None = None,
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    """Staff change the title, priority, type or custom fields. Status is not here: it
    changes only through `ticket_transition`."""
    now = clock.now()
    with transaction.atomic():
        ticket = lock_ticket(actor, ticket.pk, expected_version)
        who = authorise(actor, "ticket.edit", ticket.desk)
        wf = workflow_of(ticket)
        errors: dict[str, str] = {}
        changes: dict[str, list] = {}
        if title is not None:
            title = _text(errors, "title", title, required=True, limit=MAX_TITLE)
            if title != ticket.title:
                changes["title"] = [ticket.title, title]
        if priority is not None and priority != ticket.priority:
            if priority not in wf.priorities:
                errors["priority"] = f"'{priority}' is not a priority of this desk"
            changes["priority"] = [ticket.priority, priority]
        if type is not None and type != ticket.type:
            if type not in wf.types:
                errors["type"] = f"'{type}' is not a ticket type of this desk"
            changes["type"] = [ticket.type, type]
        fields = dict(fields or {})
        errors.update(_check_fields(wf, fields, customer=False))
        if errors:
            raise InvalidInput(errors)
        if "title" in changes:
            ticket.title = title
        if "priority" in changes:
            ticket.priority = priority
        if "type" in changes:
            ticket.type = type
        visible, hidden = {}, {}
        current = dict(ticket.fields)
        for name, value in fields.items():
            value = (
                None
                if value in (None, "")
                else (value if isinstance(value, int) else str(value).strip())
            )
            if current.get(name) == value:
                continue
            (visible if wf.fields[name].customer_visible else hidden)[name] = [
                current.get(name),
                value,
            ]
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        ticket.fields = current
        if not (changes or visible or hidden):
            return ticket
        if changes or visible:
            record(
                ticket,
                actor=who,
                kind="edited",
                channel=channel,
                now=now,
                **changes,
                **({"fields": visible} if visible else {}),
            )
        if hidden:
            record(
                ticket,
                actor=who,
                kind="edited",
                channel=channel,
                now=now,
                public=False,
                fields=hidden,
            )
        finish(ticket, now)
    return ticket


# -- links -------------------------------------------------------------------------------


def _lock_pair(actor, first: Ticket, second: Ticket, expected_version: int | None):
    """Lock two tickets, always the lower id first, so two links never deadlock."""
    if first.pk == second.pk:
        raise InvalidInput({"other": "a ticket cannot be linked to itself"})
    a, b = sorted((first.pk, second.pk))
    locked = {pk: lock_ticket(actor, pk, None) for pk in (a, b)}
    if expected_version is not None and locked[first.pk].version != expected_version:
        raise StaleTicket(locked[first.pk].key, expected_version, locked[first.pk].version)
    return locked[first.pk], locked[second.pk]


def ticket_link(*, actor, ticket: Ticket, other: Ticket, channel: str = "web") -> TicketLink:
    """Record that two tickets relate to each other."""
    now = clock.now()
    with transaction.atomic():
        ticket, other = _lock_pair(actor, ticket, other, None)
        who = authorise(actor, "ticket.link", ticket.desk)
        authorise(actor, "ticket.link", other.desk)
        existing = TicketLink.objects.filter(
            kind="relates_to", source__in=(ticket, other), target__in=(ticket, other)
        ).first()
        if existing:
            return existing
        link = TicketLink.objects.create(
            source=ticket,
            target=other,
            desk_id=ticket.desk_id,
            kind="relates_to",
            created_by=actor,
            created_at=now,
        )
        for a, b in ((ticket, other), (other, ticket)):
            record(
                a,
                actor=who,
                kind="linked",
                channel=channel,
                now=now,
                other=b.key,
                public=a.organisation_id == b.organisation_id,
            )
            finish(a, now)
    return link


def ticket_mark_duplicate(
    *,
    actor,
    ticket: Ticket,
    original: Ticket,
    comment: str = "",
    expected_version: int | None = None,
    channel: str = "web",
) -> Ticket:
    """Mark `ticket` as a duplicate of `original`: link both ways and close the duplicate as
    its workflow says (`duplicates:`), prefixing its title when the workflow asks for it."""
    now = clock.now()
    with transaction.atomic():
        ticket, original = _lock_pair(actor, ticket, original, expected_version)
        who = authorise(actor, "ticket.duplicate", ticket.desk)
        authorise(actor, "ticket.duplicate", original.desk)
        if TicketLink.objects.filter(source=original, target=ticket, kind="duplicate_of").exists():
            raise InvalidInput(
                {"original": f"{original.key} is already a duplicate of {ticket.key}"}
            )
        if TicketLink.objects.filter(source=ticket, kind="duplicate_of").exists():
            raise InvalidInput({"ticket": f"{ticket.key} is already marked as a duplicate"})
        if (
            original.category in ("closed", "cancelled")
            and TicketLink.objects.filter(source=original, kind="duplicate_of").exists()
        ):
            raise InvalidInput({"original": f"{original.key} is itself a closed duplicate"})
        wf = workflow_of(ticket)
        TicketLink.objects.create(
            source=ticket,
            target=original,
            desk_id=ticket.desk_id,
            kind="duplicate_of",
            created_by=actor,
            created_at=now,
        )
        same_org = ticket.organisation_id == original.organisation_id
        record(
            ticket,
            actor=who,
            kind="duplicate_of",
            channel=channel,
            now=now,
            original=original.key if same_org else "",
            public=True,
        )
        record(
            original,
            actor=who,
            kind="duplicate_added",
            channel=channel,
            now=now,
            duplicate=ticket.key,
            public=same_org,
        )
        finish(original, now)
        rule = wf.duplicates
        if (
            rule is not None
            and rule.title_prefix
            and not ticket.title.startswith(rule.title_prefix)
        ):
            new_title = (rule.title_prefix + ticket.title)[:MAX_TITLE]
            record(
                ticket,
                actor=who,
                kind="edited",
                channel=channel,
                now=now,
                title=[ticket.title, new_title],
            )
            ticket.title = new_title
        note = None
        if comment.strip():
            note = Comment.objects.create(
                ticket=ticket,
                desk_id=ticket.desk_id,
                author=actor,
                body=comment.strip()[:MAX_TEXT],
                internal=False,
                channel=channel,
                created_at=now,
            )
        if rule is not None and ticket.category not in ("closed", "cancelled"):
            move(
                ticket,
                actor=who,
                transition=rule.transition,
                given=Given(comment=note.body if note else ""),
                channel=channel,
                now=now,
                comment_id=note.pk if note else None,
            )
        finish(ticket, now)
    return ticket
