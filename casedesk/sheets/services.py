"""Writes to the service sheet, one function each. Every one locks the ticket first (the
one lock order), authorises through the ticket's rules and leaves a history entry."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Sum

from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.tickets import selectors as ticket_selectors
from casedesk.tickets import services as ticket_services
from casedesk.tickets.models import Ticket
from casedesk.workflow.sheet import MAX_MINUTES_PER_ENTRY, is_locked

from .errors import SheetLocked
from .models import Sheet, TimeEntry, WorkKind

MAX_DESCRIPTION = 2000
WRITABLE = ("open", "returned")


def local_day(ticket: Ticket, at: datetime) -> date:
    """The day `at` falls on in the desk's time zone: work is never bucketed in UTC."""
    return at.astimezone(ZoneInfo(ticket.desk.time_zone)).date()


def sheet_current(ticket: Ticket, now: datetime) -> Sheet:
    """The sheet of the ticket's current cycle, opened on first use. Call it with the
    ticket locked."""
    sheet = Sheet.objects.filter(ticket=ticket, cycle=ticket.cycle).first()
    if sheet is None:
        sheet = Sheet.objects.create(
            ticket=ticket,
            desk_id=ticket.desk_id,
            organisation_id=ticket.organisation_id,
            cycle=ticket.cycle,
            opened_at=now,
        )
    return sheet


def counted(entries):
    """Entries that count: those no later entry corrects."""
    return entries.filter(~Exists(TimeEntry.objects.filter(corrects=OuterRef("pk"))))


def ensure_writable(sheet: Sheet) -> None:
    if sheet.state not in WRITABLE:
        raise SheetLocked(sheet.state)


def _checked(
    ticket: Ticket,
    *,
    now: datetime,
    worker,
    minutes,
    day,
    kind,
    billable,
    description,
    correction: bool,
    replaces: TimeEntry | None = None,
) -> dict:
    errors: dict[str, Problem | str] = {}
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = -1
    least = 0 if correction else 1
    if not least <= minutes <= MAX_MINUTES_PER_ENTRY:
        errors["minutes"] = Problem("sheet.entry.minutes", least=least, most=MAX_MINUTES_PER_ENTRY)
    today = local_day(ticket, now)
    if day in (None, ""):
        day = today
    elif not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            errors["day"] = "date.malformed"
    if isinstance(day, date) and day > today:
        errors["day"] = "sheet.entry.day_future"
    work_kind = None
    if kind not in (None, ""):
        work_kind = WorkKind.objects.filter(
            desk_id=ticket.desk_id, active=True, slug=str(kind)
        ).first()
    if work_kind is None:
        errors["kind"] = "sheet.entry.kind_unknown"
    description = str(description or "").strip()
    if not description:
        errors["description"] = "input.required"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = Problem("input.too_long", limit=MAX_DESCRIPTION)
    if billable is None and work_kind is not None:
        billable = work_kind.billable
    billable = bool(billable)
    if billable and ticket.category == "cancelled":
        errors["billable"] = "sheet.entry.cancelled"
    if not errors and isinstance(day, date):
        same_day = counted(TimeEntry.objects.filter(worker=worker, day=day))
        if replaces is not None:
            same_day = same_day.exclude(pk=replaces.pk)
        total = same_day.aggregate(n=Sum("minutes"))["n"] or 0
        if total + minutes > MAX_MINUTES_PER_ENTRY:
            errors["minutes"] = "sheet.entry.over_a_day"
    if errors:
        raise InvalidInput(errors)
    return {
        "minutes": minutes,
        "day": day,
        "kind": work_kind,
        "billable": billable,
        "description": description,
    }


def _worker(actor, ticket: Ticket, worker):
    if worker is None or worker.pk == actor.pk:
        return actor
    staff = ticket_selectors.desk_staff_for(user=actor, desk=ticket.desk)
    if worker.pk not in {p.pk for p in staff}:
        raise InvalidInput({"worker": "ticket.assignee.not_staff"})
    return worker


def _entry_data(entry: TimeEntry) -> dict:
    return {
        "entry": entry.pk,
        "sheet": entry.sheet_id,
        "minutes": entry.minutes,
        "day": entry.day.isoformat(),
        "work_kind": entry.kind.slug,
        "billable": entry.billable,
        **({"corrects": entry.corrects_id} if entry.corrects_id else {}),
    }


def work_log(
    *,
    actor,
    ticket: Ticket,
    minutes,
    description: str,
    kind: str | None,
    day=None,
    billable: bool | None = None,
    worker=None,
    channel: str = "web",
) -> TimeEntry:
    """Staff log work on the ticket's current sheet (open or returned)."""

    def write(locked: Ticket, now: datetime):
        who = _worker(actor, locked, worker)
        sheet = sheet_current(locked, now)
        ensure_writable(sheet)
        values = _checked(
            locked,
            now=now,
            worker=who,
            minutes=minutes,
            day=day,
            kind=kind,
            billable=billable,
            description=description,
            correction=False,
        )
        entry = TimeEntry.objects.create(
            sheet=sheet,
            ticket=locked,
            desk_id=locked.desk_id,
            organisation_id=locked.organisation_id,
            worker=who,
            logged_by=actor,
            channel=channel,
            created_at=now,
            **values,
        )
        return entry, _entry_data(entry)

    return ticket_services.ticket_beside_change(
        actor=actor,
        ticket=ticket,
        verb="time.log",
        kind="time_logged",
        write=write,
        channel=channel,
    )


def work_correct(
    *,
    actor,
    entry_id: int,
    minutes,
    description: str,
    kind: str | None = None,
    day=None,
    billable: bool | None = None,
    channel: str = "web",
) -> TimeEntry:
    """Put an entry right with a new one linked to it; the sheet counts the new one.
    Zero minutes take the work off the sheet, with the reason in the description."""
    entry = (
        TimeEntry.objects.filter(pk=entry_id, ticket__in=Ticket.objects.visible_to(actor))
        .select_related("ticket", "ticket__desk", "kind")
        .first()
    )
    if entry is None:
        raise NotFound("sheet.not_found")

    def write(locked: Ticket, now: datetime):
        current = TimeEntry.objects.select_related("sheet", "kind").get(pk=entry.pk)
        ensure_writable(current.sheet)
        if TimeEntry.objects.filter(corrects=current).exists():
            raise InvalidInput({"entry": "sheet.entry.corrected_already"})
        values = _checked(
            locked,
            now=now,
            worker=current.worker,
            minutes=minutes,
            day=day or current.day,
            kind=kind or current.kind.slug,
            billable=current.billable if billable is None else billable,
            description=description,
            correction=True,
            replaces=current,
        )
        new = TimeEntry.objects.create(
            sheet=current.sheet,
            ticket=locked,
            desk_id=locked.desk_id,
            organisation_id=locked.organisation_id,
            worker=current.worker,
            logged_by=actor,
            corrects=current,
            channel=channel,
            created_at=now,
            **values,
        )
        return new, {**_entry_data(new), "before": _entry_data(current)}

    return ticket_services.ticket_beside_change(
        actor=actor,
        ticket=entry.ticket,
        verb="time.log",
        kind="time_corrected",
        write=write,
        channel=channel,
    )


def sheet_is_locked(sheet: Sheet) -> bool:
    return is_locked(sheet.state)
