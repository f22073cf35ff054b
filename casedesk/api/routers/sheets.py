"""The service sheet: its entries, totals and state per cycle; logging work and
correcting it. Entries are never edited or removed: a correction is a new entry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Status
from pydantic import Field, StringConstraints

from casedesk.common.errors import Forbidden, NotFound
from casedesk.sheets import selectors as sheet_selectors
from casedesk.sheets import services as sheet_services
from casedesk.sheets.errors import EntryImmutable, SheetLocked
from casedesk.sheets.models import TimeEntry
from casedesk.tickets import selectors
from casedesk.tickets.models import Ticket

from ..schemas import Id, In, PersonRef, Schema, person_ref
from .tickets import KeyPath, errors, person_for

router = Router(tags=["service sheet"])
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
LOG_VERB = "time.log"  # the verb staff need to log and correct work
EntryPath = Annotated[int, Path(..., ge=1, le=2**63 - 1, description="a time entry id")]


class EntryOut(Schema):
    id: int
    sheet_cycle: int
    worker: PersonRef | None
    day: date = Field(description="the day in the desk's time zone")
    minutes: int = Field(description="worked")
    billed_minutes: int = Field(description="billed, by the organisation's rounding rules")
    kind: str
    billable: bool
    description: str
    corrects: int | None = Field(description="the entry this one corrects")
    counts: bool = Field(description="false: a later entry corrects this one")
    reason: str = Field(description="`cancelled`: made non-billable when the ticket was")
    created_at: datetime


class KindTotalOut(Schema):
    kind: str
    worked_minutes: int
    billed_minutes: int


class SheetOut(Schema):
    cycle: int
    state: str = Field(description="open, submitted, returned, approved or invoiced")
    locked: bool
    submitted_at: datetime | None
    approves_automatically_at: datetime | None
    approved_at: datetime | None
    approved_how: str = Field(description="customer, staff, timer or closing")
    invoiced_at: datetime | None
    worked_minutes: int
    billed_minutes: int
    by_kind: list[KindTotalOut]
    pdf_sha256: str = Field(description="checksum of the stored PDF of the approved sheet")
    entries: list[EntryOut]


class EntryIn(In):
    minutes: int = Field(ge=0, le=100_000)
    description: Annotated[str, StringConstraints(max_length=10_000)]
    kind: Annotated[str, StringConstraints(max_length=40)]
    day: Day | None = Field(None, description="the desk's local day; today if left out")
    billable: bool | None = Field(None, description="the kind of work's default if left out")
    worker: Id | None = Field(None, description="a staff member of the desk; you by default")


class CorrectionIn(In):
    minutes: int = Field(ge=0, le=100_000, description="0 takes the work off the sheet")
    description: Annotated[str, StringConstraints(max_length=10_000)]
    kind: Annotated[str, StringConstraints(max_length=40)] | None = None
    day: Day | None = None
    billable: bool | None = None


def entry_out(row, cycle: int) -> dict:
    e = row.entry
    return {
        "id": e.pk,
        "sheet_cycle": cycle,
        "worker": person_ref(e.worker),
        "day": e.day,
        "minutes": e.minutes,
        "billed_minutes": row.billed,
        "kind": e.kind.slug,
        "billable": e.billable,
        "description": e.description,
        "corrects": e.corrects_id,
        "counts": row.counts,
        "reason": e.reason,
        "created_at": e.created_at,
    }


def sheet_out(view) -> dict:
    s = view.sheet
    return {
        "cycle": s.cycle,
        "state": s.state,
        "locked": view.locked,
        "submitted_at": s.submitted_at,
        "approves_automatically_at": s.approves_automatically_at,
        "approved_at": s.approved_at,
        "approved_how": s.approved_how,
        "invoiced_at": s.invoiced_at,
        "worked_minutes": view.worked,
        "billed_minutes": view.billed,
        "by_kind": [
            {"kind": k.kind.slug, "worked_minutes": k.worked, "billed_minutes": k.billed}
            for k in view.by_kind
        ],
        "pdf_sha256": s.pdf_sha256,
        "entries": [entry_out(r, s.cycle) for r in view.rows],
    }


def _entry_row(request: HttpRequest, ticket: Ticket, entry_id: int) -> dict:
    for view in sheet_selectors.sheets_for(user=request.user, ticket=ticket):
        for row in view.rows:
            if row.entry.pk == entry_id:
                return entry_out(row, view.sheet.cycle)
    raise NotFound("sheet.not_found")


@router.get(
    "/tickets/{key}/sheets",
    response={200: list[SheetOut], **errors()},
    summary="The service sheet, per cycle",
)
def sheets_list(request: HttpRequest, key: KeyPath):
    """Every cycle's sheet, newest first, with its entries and totals. Everyone who may see
    the ticket sees it (customers included)."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [sheet_out(v) for v in sheet_selectors.sheets_for(user=request.user, ticket=ticket)]


@router.post(
    "/tickets/{key}/time-entries",
    response={201: EntryOut, **errors()},
    summary="Log work",
)
def entry_add(request: HttpRequest, key: KeyPath, payload: EntryIn):
    """Staff log work on the ticket's current sheet while it is open or returned. Logging
    only adds an entry, so it needs no ticket version."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    entry = sheet_services.work_log(
        actor=request.user,
        ticket=ticket,
        minutes=payload.minutes,
        description=payload.description,
        kind=payload.kind,
        day=payload.day,
        billable=payload.billable,
        worker=person_for(request, payload.worker, "worker"),
        channel="api",
    )
    return Status(201, _entry_row(request, ticket, entry.pk))


def _visible_entry(request: HttpRequest, entry_id: int) -> TimeEntry:
    entry = (
        TimeEntry.objects.filter(pk=entry_id, ticket__in=Ticket.objects.visible_to(request.user))
        .select_related("sheet", "ticket")
        .first()
    )
    if entry is None:
        raise NotFound("sheet.not_found")
    return entry


@router.post(
    "/time-entries/{entry_id}/corrections",
    response={201: EntryOut, **errors()},
    summary="Correct an entry",
)
def entry_correct(request: HttpRequest, entry_id: EntryPath, payload: CorrectionIn):
    """A new entry that puts this one right; the sheet counts the new one instead."""
    entry = _visible_entry(request, entry_id)
    new = sheet_services.work_correct(
        actor=request.user,
        entry_id=entry.pk,
        minutes=payload.minutes,
        description=payload.description,
        kind=payload.kind,
        day=payload.day,
        billable=payload.billable,
        channel="api",
    )
    return Status(201, _entry_row(request, entry.ticket, new.pk))


def _refuse(request: HttpRequest, entry_id: int):
    entry = _visible_entry(request, entry_id)
    if not getattr(request.user, "is_supplier_staff", False):
        raise Forbidden("permission.denied", verb=LOG_VERB)
    if entry.sheet.state in ("approved", "invoiced"):
        raise SheetLocked(entry.sheet.state)
    raise EntryImmutable(f"/api/v1/time-entries/{entry.pk}/corrections")


@router.patch(
    "/time-entries/{entry_id}", response={200: EntryOut, **errors()}, summary="Edit: refused"
)
def entry_edit(request: HttpRequest, entry_id: EntryPath):
    """Always refused with the reason: the sheet is locked (409 `sheet_locked`), or entries
    are corrected rather than edited (409 `entry_immutable`)."""
    _refuse(request, entry_id)


@router.delete(
    "/time-entries/{entry_id}", response={204: None, **errors()}, summary="Remove: refused"
)
def entry_delete(request: HttpRequest, entry_id: EntryPath):
    """Always refused, like editing: a correction with 0 minutes takes work off a sheet."""
    _refuse(request, entry_id)
