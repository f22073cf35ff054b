"""The invoice basis: approved work of one organisation in one period, per ticket and kind
of work, as CSV and XLSX.

Two acts, never one: `invoice_basis` only reads (a preview marks nothing), and
`invoice_finalise` marks each entry with its run exactly once, keeps the files it made and
turns fully invoiced sheets `invoiced`. A finalised run's files are stored, so exporting it
again gives the same bytes. Team leads and admins of a desk invoice its work; nobody sees
work of desks they have no such role on, and customers see no invoice basis at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from casedesk.accounts.models import Organisation
from casedesk.common import clock
from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.desks.models import Desk, StaffMembership
from casedesk.tickets import services as ticket_services
from casedesk.tickets.models import Ticket
from casedesk.workflow.sheet import billed_minutes

from .models import InvoiceRun, Sheet, TimeEntry
from .selectors import roundings_for
from .services import counted

INVOICING_ROLES = ("lead", "admin")
MAX_PERIOD = timedelta(days=366)
HEADER = [
    "organisation",
    "ticket",
    "title",
    "kind_of_work",
    "entries",
    "worked_minutes",
    "billed_minutes",
    "worked_hours",
    "billed_hours",
]


@dataclass
class BasisRow:
    ticket_key: str
    title: str
    kind: str
    entries: int = 0
    worked: int = 0
    billed: int = 0


@dataclass
class Basis:
    organisation: Organisation
    start: date
    end: date
    rows: list[BasisRow]
    entry_ids: list[int]

    @property
    def worked(self) -> int:
        return sum(r.worked for r in self.rows)

    @property
    def billed(self) -> int:
        return sum(r.billed for r in self.rows)


def invoicing_desks(user) -> list[int]:
    """The desks whose work `user` may invoice; Forbidden for anyone else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotFound("invoice.not_found")
    if user.is_superuser:
        return list(Desk.objects.values_list("pk", flat=True))
    if not user.is_supplier_staff:
        raise NotFound("invoice.not_found")
    desks = list(
        StaffMembership.objects.filter(user=user, role__in=INVOICING_ROLES).values_list(
            "desk_id", flat=True
        )
    )
    if not desks:
        raise Forbidden("permission.denied", verb="invoice")
    return desks


def _period(start, end) -> tuple[date, date]:
    errors: dict[str, str] = {}
    parsed = []
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, date):
            parsed.append(value)
            continue
        try:
            parsed.append(date.fromisoformat(str(value)))
        except ValueError:
            errors[name] = "date.malformed"
    if not errors:
        first, last = parsed
        if last < first:
            errors["end"] = "invoice.period.backwards"
        elif last - first > MAX_PERIOD:
            errors["end"] = "invoice.period.too_long"
    if errors:
        raise InvalidInput(errors)
    return parsed[0], parsed[1]


def _organisation(user, organisation_id) -> Organisation:
    org = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    if org is None:
        raise InvalidInput({"organisation": "invoice.organisation.unknown"})
    return org


def _candidates(org: Organisation, desks: list[int], start: date, end: date):
    """Counted entries of approved, not yet invoiced work in the period."""
    return counted(
        TimeEntry.objects.filter(
            organisation=org,
            desk_id__in=desks,
            day__gte=start,
            day__lte=end,
            invoice_run__isnull=True,
            sheet__state="approved",
        )
    )


def _basis(org: Organisation, start: date, end: date, entries) -> Basis:
    """Group the entries per ticket and kind of work. Plain rows, not model instances:
    a month of an organisation is thousands of entries (bench/sheets.py)."""
    default, per_kind = roundings_for(org.pk)
    rows: dict[tuple[str, str], BasisRow] = {}
    ids = []
    values = entries.order_by("ticket__key", "kind__slug", "pk").values_list(
        "pk", "ticket__key", "ticket__title", "kind__slug", "kind_id", "minutes", "billable"
    )
    for pk, key, title, kind, kind_id, minutes, billable in values:
        ids.append(pk)
        row = rows.get((key, kind))
        if row is None:
            row = rows[(key, kind)] = BasisRow(ticket_key=key, title=title, kind=kind)
        row.entries += 1
        row.worked += minutes
        row.billed += billed_minutes(
            minutes, billable=billable, rule=per_kind.get(kind_id, default)
        )
    ordered = sorted(rows.values(), key=lambda r: (_key_order(r.ticket_key), r.kind))
    return Basis(organisation=org, start=start, end=end, rows=ordered, entry_ids=ids)


def _key_order(key: str) -> tuple[str, int]:
    prefix, _, number = key.rpartition("-")
    return (prefix, int(number) if number.isdigit() else 0)


def invoice_basis(*, user, organisation_id, start, end) -> Basis:
    """A preview: what finalising would invoice now. Marks nothing."""
    desks = invoicing_desks(user)
    first, last = _period(start, end)
    org = _organisation(user, organisation_id)
    return _basis(org, first, last, _candidates(org, desks, first, last))


def invoice_finalise(*, user, organisation_id, start, end) -> InvoiceRun:
    """Invoice the basis: one run, each entry marked once, the files kept."""
    desks = invoicing_desks(user)
    first, last = _period(start, end)
    org = _organisation(user, organisation_id)
    now = clock.now()
    with transaction.atomic():
        # tickets first, in key order, as every change of a ticket takes them: marking a
        # sheet invoiced notes it on its ticket, and a change of that ticket may lock the
        # sheet, so taking the entries' locks first could deadlock with it
        tickets = _candidates(org, desks, first, last).values("ticket_id")
        list(
            Ticket.objects.filter(pk__in=tickets)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        locked = list(
            _candidates(org, desks, first, last)
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        basis = _basis(org, first, last, TimeEntry.objects.filter(pk__in=locked))
        if not basis.entry_ids:
            raise InvalidInput({"period": "invoice.nothing"})
        csv_bytes, xlsx_bytes = basis_csv(basis), basis_xlsx(basis, now)
        run = InvoiceRun.objects.create(
            organisation=org,
            period_start=first,
            period_end=last,
            finalised_at=now,
            finalised_by=user,
            entries=len(basis.entry_ids),
            worked_minutes=basis.worked,
            billed_minutes=basis.billed,
            csv=csv_bytes,
            xlsx=xlsx_bytes,
            csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
            xlsx_sha256=hashlib.sha256(xlsx_bytes).hexdigest(),
        )
        marked = TimeEntry.objects.filter(pk__in=basis.entry_ids, invoice_run__isnull=True).update(
            invoice_run=run
        )
        if marked != len(basis.entry_ids):  # someone else invoiced some of them meanwhile
            raise InvalidInput({"period": "invoice.raced"})
        marked_sheets = TimeEntry.objects.filter(invoice_run=run).values("sheet_id")
        sheets = Sheet.objects.filter(state="approved", pk__in=marked_sheets)
        for sheet in sheets.select_for_update(of=("self",)):
            if not counted(sheet.entries.filter(invoice_run__isnull=True)).exists():
                sheet.state, sheet.invoiced_at = "invoiced", now
                sheet.save(update_fields=["state", "invoiced_at"])
                ticket_services.ticket_record_news(
                    ticket_id=sheet.ticket_id,
                    kind="sheet_invoiced",
                    data={"sheet": sheet.pk, "cycle": sheet.cycle, "invoice_run": run.pk},
                    now=now,
                )
    return run


def invoice_run_get(*, user, run_id: int) -> InvoiceRun:
    """A finalised run, for someone who may invoice work of one of its desks."""
    desks = invoicing_desks(user)
    run = (
        InvoiceRun.objects.filter(pk=run_id)
        .filter(Q(marked__desk_id__in=desks))
        .select_related("organisation")
        .distinct()
        .first()
    )
    if run is None:
        raise NotFound("invoice.not_found")
    return run


# -- the files --------------------------------------------------------------------------


def _cell(value):
    """A text cell a spreadsheet will not run: formula starts are quoted (T30)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _lines(basis: Basis) -> list[list]:
    return [
        [
            _cell(basis.organisation.name),
            _cell(r.ticket_key),
            _cell(r.title),
            _cell(r.kind),
            r.entries,
            r.worked,
            r.billed,
            round(r.worked / 60, 2),
            round(r.billed / 60, 2),
        ]
        for r in basis.rows
    ]


def basis_csv(basis: Basis) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_lines(basis))
    return out.getvalue().encode("utf-8")


def basis_xlsx(basis: Basis, at: datetime) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Invoice basis"
    sheet.append(HEADER)
    for line in _lines(basis):
        sheet.append(line)
    book.properties.created = book.properties.modified = at.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
