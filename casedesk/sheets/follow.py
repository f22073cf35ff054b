"""The workflow drives the sheet: an observer of every finished ticket change.

A transition with a `sheet:` effect (submit, approve, return, lock) moves the sheet of the
ticket's current cycle, in the change's own transaction. A change that leaves the ticket
cancelled turns the open billable work non-billable, each entry by a correction that says
so, because a cancelled ticket carries no billable work; a locked sheet cannot be
cancelled away, so that change is refused.
"""

from __future__ import annotations

from casedesk.tickets.models import TicketEvent, TicketTimer
from casedesk.workflow.sheet import is_locked, sheet_after

from .errors import SheetLocked
from .models import Sheet, TimeEntry
from .services import counted, sheet_current


def sheet_follow(change) -> None:
    moves: list[tuple[str, TicketEvent]] = []
    moved = False
    for event in change.events:
        if event.kind != "transition":
            continue
        moved = True
        t = change.wf.transitions.get(event.data.get("transition"))
        for effect in t.effects if t is not None else ():
            if effect.kind == "sheet":
                moves.append((str(effect.value), event))
    if moves:
        sheet = sheet_current(change.ticket, change.now)
        for move, event in moves:
            _apply(change, sheet, move, event)
    if moved and change.ticket.category == "cancelled":
        _cancel(change)


def _apply(change, sheet: Sheet, move: str, event: TicketEvent) -> None:
    state = sheet_after(sheet.state, move)
    if state == sheet.state:
        return
    now = change.now
    sheet.state = state
    if move == "submit":
        sheet.submitted_at, sheet.returned_at = now, None
        sheet.approves_automatically_at = _automatic_approval(change)
    elif move == "return":
        sheet.returned_at, sheet.approves_automatically_at = now, None
    else:  # approve, lock
        sheet.approved_at = now
        sheet.approves_automatically_at = None
        sheet.approved_by_id = event.actor_id
        sheet.approved_how = (
            "closing"
            if move == "lock"
            else {"customer": "customer", "staff": "staff"}.get(event.actor_kind, "timer")
        )
    sheet.save()
    change.record(
        f"sheet_{state}",
        sheet=sheet.pk,
        cycle=sheet.cycle,
        **(
            {"approves_automatically_at": sheet.approves_automatically_at.isoformat()}
            if state == "submitted" and sheet.approves_automatically_at
            else {}
        ),
    )
    if is_locked(sheet.state):
        from .tasks import sheet_print

        sheet_print.enqueue(sheet_id=sheet.pk)


def _automatic_approval(change):
    """When the workflow will approve the sheet by itself, if it will: the ticket's timer
    (set again before the observers run) when its transition approves the sheet."""
    timer = TicketTimer.objects.filter(ticket=change.ticket).first()
    if timer is None:
        return None
    t = change.wf.transitions.get(timer.transition)
    if t is not None and any(e.kind == "sheet" and e.value == "approve" for e in t.effects):
        return timer.due_at
    return None


def _cancel(change) -> None:
    ticket = change.ticket
    for sheet in Sheet.objects.filter(ticket=ticket):
        billable = counted(sheet.entries.filter(billable=True))
        if not billable.exists():
            continue
        if is_locked(sheet.state):
            raise SheetLocked(sheet.state)
        for entry in billable.select_related("kind"):
            TimeEntry.objects.create(
                sheet=sheet,
                ticket=ticket,
                desk_id=ticket.desk_id,
                organisation_id=ticket.organisation_id,
                worker_id=entry.worker_id,
                logged_by=None,
                day=entry.day,
                minutes=entry.minutes,
                kind=entry.kind,
                billable=False,
                description=entry.description,
                reason="cancelled",
                corrects=entry,
                channel="system",
                created_at=change.now,
            )
