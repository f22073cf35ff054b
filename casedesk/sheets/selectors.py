"""Reads of the service sheet for a person: only through a ticket they may see, so a
sheet of a ticket they cannot see does not exist for them."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import router
from django.db.models import Exists, OuterRef

from casedesk.common.rows import Prepared
from casedesk.tickets import selectors as ticket_selectors
from casedesk.tickets.models import Ticket
from casedesk.workflow.sheet import NO_ROUNDING, Rounding, billed_minutes, is_locked

from .models import RoundingRule, Sheet, TimeEntry, WorkKind


@dataclass
class EntryRow:
    entry: TimeEntry
    billed: int
    counts: bool  # False: a later entry corrects it


@dataclass
class KindTotal:
    kind: WorkKind
    worked: int = 0
    billed: int = 0


@dataclass
class SheetView:
    sheet: Sheet
    rows: list[EntryRow] = field(default_factory=list)
    worked: int = 0
    billed: int = 0
    billable_worked: int = 0
    by_kind: list[KindTotal] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return is_locked(self.sheet.state)

    @property
    def writable(self) -> bool:
        return self.sheet.state in ("open", "returned")


# A sheet's reads have the same shape for every ticket: built by the ORM once
# (common.rows.Prepared), not at each view of a ticket page or sheet.
def _read(prepared: Prepared, key: int) -> list:
    return prepared(key, using=router.db_for_read(prepared.model))


_roundings = Prepared(lambda o: RoundingRule.objects.filter(organisation_id=o))
_sheets = Prepared(lambda t: Sheet.objects.filter(ticket_id=t).order_by("-cycle"))
_entries = Prepared(
    lambda t: (
        TimeEntry.objects.filter(ticket_id=t)
        .select_related("kind", "worker")
        .annotate(corrected=Exists(TimeEntry.objects.filter(corrects=OuterRef("pk"))))
        .order_by("day", "id")
    )
)
_kinds = Prepared(lambda d: WorkKind.objects.filter(desk_id=d, active=True))


def roundings_for(organisation_id: int) -> tuple[Rounding, dict[int, Rounding]]:
    """The organisation's rule for all kinds, and its rules per kind of work."""
    default, per_kind = NO_ROUNDING, {}
    for rule in _read(_roundings, organisation_id):
        if rule.kind_id is None:
            default = rule.rounding
        else:
            per_kind[rule.kind_id] = rule.rounding
    return default, per_kind


def entry_billed(entry: TimeEntry, default: Rounding, per_kind: dict[int, Rounding]) -> int:
    return billed_minutes(
        entry.minutes, billable=entry.billable, rule=per_kind.get(entry.kind_id, default)
    )


def sheets_for(*, user, ticket: Ticket) -> list[SheetView]:
    """Every sheet of the ticket, newest cycle first, with entries and totals; four
    queries however many entries there are."""
    ticket_selectors.ticket_ensure_visible(user=user, ticket=ticket)
    return _views(ticket)


def _views(ticket: Ticket) -> list[SheetView]:
    sheets = _read(_sheets, ticket.pk)
    if not sheets:
        return []
    default, per_kind = roundings_for(ticket.organisation_id)
    entries = _read(_entries, ticket.pk)
    views = {s.pk: SheetView(sheet=s) for s in sheets}
    kinds: dict[int, dict[int, KindTotal]] = {s.pk: {} for s in sheets}
    for entry in entries:
        view = views[entry.sheet_id]
        counts = not entry.corrected
        billed = entry_billed(entry, default, per_kind) if counts else 0
        view.rows.append(EntryRow(entry=entry, billed=billed, counts=counts))
        if counts:
            view.worked += entry.minutes
            view.billed += billed
            if entry.billable:
                view.billable_worked += entry.minutes
            total = kinds[entry.sheet_id].setdefault(entry.kind_id, KindTotal(kind=entry.kind))
            total.worked += entry.minutes
            total.billed += billed
    for pk, view in views.items():
        view.by_kind = sorted(kinds[pk].values(), key=lambda k: (k.kind.position, k.kind.slug))
    return list(views.values())


def work_kinds_for(*, user, ticket: Ticket) -> list[WorkKind]:
    ticket_selectors.ticket_ensure_visible(user=user, ticket=ticket)
    return _read(_kinds, ticket.desk_id)


def hours(minutes: int) -> str:
    """Minutes as h:mm, the way sheets show time."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def sheet_pdf_for(*, user, ticket: Ticket, cycle: int) -> Sheet | None:
    """The stored PDF of an approved sheet, if there is one."""
    ticket_selectors.ticket_ensure_visible(user=user, ticket=ticket)
    return Sheet.objects.filter(ticket=ticket, cycle=cycle).exclude(pdf_sha256="").first()
