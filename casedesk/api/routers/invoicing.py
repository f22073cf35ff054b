"""The invoice basis: a preview that marks nothing, and finalised runs whose files are
kept, so exporting a run again gives the same bytes. Team leads and admins only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status
from pydantic import Field

from casedesk.common import clock
from casedesk.common.replica import replica_read
from casedesk.sheets import invoicing

from ..schemas import Id, In, QueryIn, Schema
from .sheets import Day
from .tickets import errors

router = Router(tags=["invoicing"])
FILE = {
    "responses": {
        "200": {
            "description": "the invoice basis as CSV or XLSX, or as JSON",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class BasisQuery(QueryIn):
    organisation: Id
    start: Day
    end: Day = Field(description="inclusive")
    format: Literal["json", "csv", "xlsx"] = "json"


class BasisRowOut(Schema):
    ticket: str
    title: str
    kind: str
    entries: int
    worked_minutes: int
    billed_minutes: int


class BasisOut(Schema):
    organisation: int
    start: date
    end: date
    entries: int
    worked_minutes: int
    billed_minutes: int
    rows: list[BasisRowOut]


class RunIn(In):
    organisation: Id
    start: Day
    end: Day


class RunOut(Schema):
    id: int
    organisation: int
    start: date
    end: date
    finalised_at: datetime
    entries: int
    worked_minutes: int
    billed_minutes: int
    csv_sha256: str
    xlsx_sha256: str


def basis_out(b) -> dict:
    return {
        "organisation": b.organisation.pk,
        "start": b.start,
        "end": b.end,
        "entries": len(b.entry_ids),
        "worked_minutes": b.worked,
        "billed_minutes": b.billed,
        "rows": [
            {
                "ticket": r.ticket_key,
                "title": r.title,
                "kind": r.kind,
                "entries": r.entries,
                "worked_minutes": r.worked,
                "billed_minutes": r.billed,
            }
            for r in b.rows
        ],
    }


def run_out(run) -> dict:
    return {
        "id": run.pk,
        "organisation": run.organisation_id,
        "start": run.period_start,
        "end": run.period_end,
        "finalised_at": run.finalised_at,
        "entries": run.entries,
        "worked_minutes": run.worked_minutes,
        "billed_minutes": run.billed_minutes,
        "csv_sha256": run.csv_sha256,
        "xlsx_sha256": run.xlsx_sha256,
    }


def _file(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@router.get(
    "/invoice-basis",
    response={200: BasisOut, **errors()},
    summary="Preview the invoice basis",
    openapi_extra=FILE,
)
def basis_preview(request: HttpRequest, query: Query[BasisQuery]):
    """Approved, not yet invoiced work of one organisation with its day in the period, per
    ticket and kind of work. Nothing is marked: finalise with POST /invoice-runs."""
    basis = replica_read(
        lambda: invoicing.invoice_basis(
            user=request.user, organisation_id=query.organisation, start=query.start, end=query.end
        )
    )
    if query.format == "json":
        return basis_out(basis)
    name = f"invoice-basis-preview-{query.start}-{query.end}"
    if query.format == "csv":
        return _file(invoicing.basis_csv(basis), "csv", name)
    return _file(invoicing.basis_xlsx(basis, clock.now()), "xlsx", name)


@router.post("/invoice-runs", response={201: RunOut, **errors()}, summary="Finalise")
def run_finalise(request: HttpRequest, payload: RunIn):
    """Invoice the basis: every entry in it is marked with this run, exactly once."""
    run = invoicing.invoice_finalise(
        user=request.user,
        organisation_id=payload.organisation,
        start=payload.start,
        end=payload.end,
    )
    return Status(201, run_out(run))


@router.get("/invoice-runs/{run_id}", response={200: RunOut, **errors()}, summary="A run")
def run_get(request: HttpRequest, run_id: Id):
    return run_out(invoicing.invoice_run_get(user=request.user, run_id=run_id))


@router.get(
    "/invoice-runs/{run_id}/{fmt}",
    response={200: None, **errors()},
    summary="A run's file, as it was finalised",
    openapi_extra=FILE,
)
def run_file(
    request: HttpRequest,
    run_id: Id,
    fmt: Literal["csv", "xlsx"] = Path(..., description="csv or xlsx"),
):
    run = invoicing.invoice_run_get(user=request.user, run_id=run_id)
    data = bytes(run.csv if fmt == "csv" else run.xlsx)
    return _file(data, fmt, f"invoice-{run.pk}")
