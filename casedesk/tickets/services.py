"""Every change to a ticket, one function each: the only place its rules live.

Each service takes the acting user (None for the system), checks that they may see the
ticket and do the change, runs in one transaction, records history, and sets the ticket's
timer again. Callers pass `expected_version` from what they showed the person, so a change
made meanwhile by someone else is refused with StaleTicket instead of being overwritten.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import F

from casedesk.common import clock
from casedesk.common.errors import Forbidden, InvalidInput, Problem, TransitionRefused
from casedesk.common.rows import insert_row
from casedesk.desks.models import Desk
from casedesk.workflow import Given, options

from .attachments import Upload, attachment_add, store_attachments
from .batch import TicketBatch, ticket_batch
from .beside import BESIDE_EFFECTS, Beside, ticket_beside_change
from .bridge import actor_for, set_place, snapshot
from .changes import TicketChange, ticket_change
from .inputs import MAX_TEXT, MAX_TITLE, field_errors, is_desk_staff, text_input
from .links import ticket_link, ticket_mark_duplicate
from .mailrecord import ticket_mail_record
from .models import Comment, Ticket, TicketTimer
from .observers import forget_observer, observe_changes
from .people import (
    participant_add,
    participant_remove,
    ticket_assign,
    ticket_assign_customer,
    ticket_route,
)
from .permissions import authorise, authorise_given, ensure_desk_visible
from .system import (
    ticket_fire_event,
    ticket_record_news,
    ticket_system_event,
    ticket_system_transition,
)

# Every service, importable from here; assignment and links live in their own modules.
__all__ = [
    "Beside",
    "TicketBatch",
    "attachment_add",
    "comment_add",
    "forget_observer",
    "observe_changes",
    "participant_add",
    "participant_remove",
    "ticket_assign",
    "ticket_assign_customer",
    "ticket_batch",
    "ticket_beside_change",
    "ticket_create",
    "ticket_edit",
    "ticket_fire_event",
    "ticket_link",
    "ticket_mail_record",
    "ticket_mark_duplicate",
    "ticket_record_news",
    "ticket_route",
    "ticket_system_event",
    "ticket_system_transition",
    "ticket_transition",
]

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
    attachments: list[Upload] | None = None,
    channel: str = "web",
) -> Ticket:
    """Open a ticket: a customer for themselves, or staff for a customer (`reporter`)."""
    ensure_desk_visible(actor, desk)
    wf = desk.workflow.workflow
    errors: dict[str, Problem] = {}
    title = text_input(errors, "title", title, required=True, limit=MAX_TITLE)
    description = text_input(errors, "description", description, required=False, limit=MAX_TEXT)
    type = type or wf.default_type
    priority = priority or wf.default_priority
    if type not in wf.types:
        errors["type"] = Problem("ticket.type.unknown", value=str(type)[:80])
    elif actor.is_customer and not wf.types[type].customer_may_create:
        errors["type"] = Problem("ticket.type.not_for_customers", type=type)
    if priority not in wf.priorities:
        errors["priority"] = Problem("ticket.priority.unknown", value=str(priority)[:80])
    fields = dict(fields or {})
    errors.update(field_errors(wf, fields, customer=actor.is_customer))

    if actor.is_customer:
        authorise(actor, "ticket.create", desk)
        if reporter is not None and reporter.pk != actor.pk:
            raise Forbidden("ticket.reporter.self_only")
        reporter = actor
    else:
        authorise(actor, "ticket.create_for_customer", desk)
        if reporter is None:
            errors["reporter"] = Problem("ticket.reporter.required")
        elif not (reporter.is_active and reporter.is_customer):
            errors["reporter"] = Problem("ticket.reporter.not_customer")
        elif not desk.organisations.filter(pk=reporter.organisation_id).exists():
            errors["reporter"] = Problem("ticket.reporter.other_desk")
    if errors:
        raise InvalidInput(errors, workflow=wf)

    now = clock.now()
    with transaction.atomic():
        # The counter row is locked until commit, so numbers are unique and gapless.
        number = _next_number(desk)
        status, sub = wf.start
        ticket = Ticket(
            desk=desk,
            number=number,
            key=f"{desk.key_prefix}-{number}",
            workflow=desk.workflow,  # read already: the change needs no second read
            organisation_id=reporter.organisation_id,
            reporter=reporter,
            created_by=actor,
            channel=channel,
            type=type,
            priority=priority,
            title=title,
            description=description,
            fields={k: v for k, v in fields.items() if v not in (None, "")},
            progress_rank=wf.statuses[status].rank or 0,
            created_at=now,
            updated_at=now,
            status_entered_at=now,
            last_activity_at=now,
        )
        set_place(ticket, wf, status, sub, now)
        insert_row(ticket)  # nobody listens to a ticket's save; its own save() adds nothing
        change = TicketChange(
            ticket, user=actor, who=actor_for(actor, desk), channel=channel, now=now, new=True
        )
        change.record(
            "created",
            title=title,
            type=type,
            priority=priority,
            status=ticket.status,
            sub_status=ticket.sub_status,
            reporter=reporter.pk,
        )
        store_attachments(change, list(attachments or []), comment=None, internal=False)
        change.timer = TicketTimer(ticket=ticket)  # a new ticket has none yet
        change.finish()
    return ticket


def _next_number(desk: Desk) -> int:
    """Take the desk's next ticket number (one statement where the database can return
    what it updated, two where not)."""
    if not connection.features.can_return_columns_from_insert:  # (UPDATE ... RETURNING too)
        Desk.objects.filter(pk=desk.pk).update(next_number=F("next_number") + 1)
        return Desk.objects.values_list("next_number", flat=True).get(pk=desk.pk) - 1
    q = connection.ops.quote_name
    table, column, pk = q(Desk._meta.db_table), q("next_number"), q(str(Desk._meta.pk.column))
    with connection.cursor() as cursor:
        # (names from the model's own metadata, quoted; the value is a parameter)
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE {pk} = %s RETURNING {column}",  # noqa: S608
            [desk.pk],
        )
        return int(cursor.fetchone()[0]) - 1


# -- conversation ---------------------------------------------------------------------


def comment_add(
    *,
    actor,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    attachments: list[Upload] | None = None,
    channel: str = "web",
    expected_version: int | None = None,
    moves_ticket: bool = True,
) -> Comment:
    """A public comment, or (staff only) an internal note, with files if any. A customer's
    comment may move the ticket, when the workflow says so (`customer_commented`).
    `moves_ticket=False` (mail whose sender is not proven): shown, and nothing else about
    the ticket changes, no workflow event, no activity time that timers count from."""
    errors: dict[str, Problem] = {}
    attachments = list(attachments or [])
    body = text_input(errors, "body", body, required=not attachments, limit=MAX_TEXT)
    if errors:
        raise InvalidInput(errors)
    verb = "note.add" if internal else "comment.add"
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb=verb,
        channel=channel,
    ) as change:
        ticket, now = change.ticket, change.now
        comment = Comment.objects.create(
            ticket=ticket,
            desk_id=ticket.desk_id,
            author=actor,
            body=body,
            internal=internal,
            channel=channel,
            created_at=now,
        )
        change.record("note" if internal else "comment", public=not internal, comment=comment.pk)
        store_attachments(change, attachments, comment=comment, internal=internal)
        if not internal and moves_ticket:
            ticket.last_activity_at = now
            if change.who.kind == "customer":
                ticket.awaiting_reply_since = ticket.awaiting_reply_since or now
            else:
                ticket.awaiting_reply_since = None
            event = "customer_commented" if change.who.kind == "customer" else "staff_commented"
            change.fire(event, cause={"comment": comment.pk})
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
    beside: Beside | None = None,
) -> Ticket:
    """Make a workflow transition, with what it requires (comment, fields, assignees).
    A transition that moves state kept beside the ticket (a quote) is made only by that
    state's service, which passes `beside` to keep its rows in the same change."""
    errors: dict[str, Problem] = {}
    comment = text_input(errors, "comment", comment, required=False, limit=MAX_TEXT)
    if errors:
        raise InvalidInput(errors)
    with ticket_change(
        user=actor, ticket_id=ticket.pk, expected_version=expected_version, channel=channel
    ) as change:
        ticket, now = change.ticket, change.now
        rule = change.wf.duplicates
        if (
            rule is not None
            and transition == rule.transition
            and any(
                o.transition.key == transition
                for o in options(change.wf, snapshot(ticket), change.who)
            )
        ):
            # a duplicate is closed with its original, links and title: ticket_mark_duplicate.
            # Whoever may not make the move at all is refused by the workflow, as for any move.
            raise TransitionRefused(
                "duplicate",
                Problem("ticket.duplicate.plain_move", transition=transition),
                workflow=change.wf,
            )
        moved = change.wf.transitions.get(transition)
        if (
            beside is None
            and moved is not None
            and any(e.kind in BESIDE_EFFECTS for e in moved.effects)
            and any(
                o.transition.key == transition
                for o in options(change.wf, snapshot(ticket), change.who)
            )
        ):
            # the quote's service makes this move, with the quote it sends or decides
            raise TransitionRefused(
                "beside",
                Problem("ticket.quote.plain_move", transition=transition),
                workflow=change.wf,
            )
        fields = dict(fields or {})
        if assignee is not None and not is_desk_staff(ticket.desk, assignee):
            errors["assignee"] = Problem("ticket.assignee.not_staff")
        if customer_assignee is not None and not (
            customer_assignee.is_active
            and customer_assignee.organisation_id == ticket.organisation_id
        ):
            errors["customer_assignee"] = Problem("ticket.customer_assignee.not_member")
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
        if assignee is not None:
            change.assign(assignee.pk)
        if customer_assignee is not None:
            change.assign_customer(customer_assignee.pk)
        change.move(transition, given, comment_id=comment_row.pk if comment_row else None)
        if beside is not None:
            change.record(beside.kind, public=beside.public, **beside.write(ticket, now))
        # after the workflow's own refusal, so a move nobody may make says so first;
        # the transaction takes back what was set if this refuses
        authorise_given(
            actor,
            ticket.desk,
            {
                name
                for name, value in (
                    ("assignee", assignee),
                    ("customer_assignee", customer_assignee),
                    ("comment_internal", comment_internal),
                )
                if value
            },
        )
    return change.ticket


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
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb="ticket.edit",
        channel=channel,
    ) as change:
        ticket, wf = change.ticket, change.wf
        errors: dict[str, Problem] = {}
        changes: dict[str, list] = {}
        if title is not None:
            title = text_input(errors, "title", title, required=True, limit=MAX_TITLE)
            if title != ticket.title:
                changes["title"] = [ticket.title, title]
        if priority is not None and priority != ticket.priority:
            if priority not in wf.priorities:
                errors["priority"] = Problem("ticket.priority.unknown", value=str(priority)[:80])
            changes["priority"] = [ticket.priority, priority]
        if type is not None and type != ticket.type:
            if type not in wf.types:
                errors["type"] = Problem("ticket.type.unknown", value=str(type)[:80])
            changes["type"] = [ticket.type, type]
        fields = dict(fields or {})
        errors.update(field_errors(wf, fields, customer=False))
        if errors:
            raise InvalidInput(errors, workflow=wf)
        if "title" in changes and title is not None:
            ticket.title = title
        if "priority" in changes and priority is not None:
            ticket.priority = priority
        if "type" in changes and type is not None:
            ticket.type = type
        visible: dict[str, list] = {}
        hidden: dict[str, list] = {}
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
        if changes or visible:
            entry: dict[str, Any] = {**changes}
            if visible:
                entry["fields"] = visible
            change.record("edited", **entry)
        if hidden:
            change.record("edited", public=False, fields=hidden)
    return change.ticket
