"""The invoice basis (seed 004: the approved sheet is what is invoiced): approved work only,
of one organisation and period, per ticket and kind of work; a preview marks nothing;
finalising marks each entry exactly once and keeps its files; exporting again is the same."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.sheets import invoicing
from casedesk.sheets import services as sheet_services
from casedesk.sheets.models import InvoiceRun, Sheet, TimeEntry
from casedesk.tickets import services
from tests.api.conftest import Api

from .conftest import started, submit

NOV = {"start": "2026-11-01", "end": "2026-11-30"}


def approved(world, sl, title, minutes, kind="consulting"):
    ticket = started(world, sl, title)
    sheet_services.work_log(
        actor=world.agent, ticket=ticket, minutes=minutes, description="Práce.", kind=kind
    )
    ticket = submit(world, ticket)
    services.ticket_transition(actor=world.alice, ticket=ticket, transition="customer_approves")
    return ticket


@pytest.fixture
def lead(world, sl):
    sl.desk.staff.create(user=world.lead, role="lead")
    return world.lead


def test_preview_finalise_and_export_again(world, sl, lead, clock):
    one = approved(world, sl, '=HYPERLINK("http://evil/","x")', 50)
    two = approved(world, sl, "Druhý", 30, kind="travel")
    started_only = started(world, sl, "Rozpracovaný")  # open: not invoiced
    sheet_services.work_log(
        actor=world.agent, ticket=started_only, minutes=60, description="Ještě.", kind="consulting"
    )
    args = {"user": lead, "organisation_id": world.org_a.pk, **NOV}

    preview = invoicing.invoice_basis(**args)
    assert [(r.ticket_key, r.kind, r.entries, r.worked) for r in preview.rows] == [
        (one.key, "consulting", 1, 50),
        (two.key, "travel", 1, 30),
    ]
    again = invoicing.invoice_basis(**args)
    assert again.entry_ids == preview.entry_ids  # the preview marked nothing
    assert not TimeEntry.objects.filter(invoice_run__isnull=False).exists()

    run = invoicing.invoice_finalise(**args)
    assert (run.entries, run.worked_minutes, run.billed_minutes) == (2, 80, 50)  # travel unbilled
    assert set(TimeEntry.objects.filter(invoice_run=run).values_list("ticket", flat=True)) == {
        one.pk,
        two.pk,
    }
    assert set(Sheet.objects.filter(state="invoiced").values_list("ticket", flat=True)) == {
        one.pk,
        two.pk,
    }
    # exactly once: nothing is left to invoice, a second run is refused
    assert invoicing.invoice_basis(**args).rows == []
    with pytest.raises(InvalidInput):
        invoicing.invoice_finalise(**args)
    assert InvoiceRun.objects.count() == 1

    # the stored files; a formula is never run (T30), numbers stay numbers
    rows = list(csv.reader(io.StringIO(bytes(run.csv).decode())))
    assert rows[0][:4] == ["organisation", "ticket", "title", "kind_of_work"]
    assert rows[1][2].startswith("'=HYPERLINK")
    book = load_workbook(io.BytesIO(bytes(run.xlsx)))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    assert cells[1][2].startswith("'=") and cells[1][5] == 50

    # exporting the finalised run again gives the same bytes, through the API too
    api = Api(lead)
    for fmt, data in (("csv", bytes(run.csv)), ("xlsx", bytes(run.xlsx))):
        response = api.get(f"invoice-runs/{run.pk}/{fmt}")
        assert response.status_code == 200
        assert response.content == data
    # and the invoiced sheets stay locked
    with pytest.raises(Exception) as caught:
        sheet_services.work_log(
            actor=world.agent, ticket=one, minutes=5, description="x", kind="consulting"
        )
    assert getattr(caught.value, "state", None) == "invoiced"


def test_the_period_is_the_desks_local_day(world, sl, lead, clock):
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Prague
    approved(world, sl, "Prosinec", 45)
    args = {"user": lead, "organisation_id": world.org_a.pk}
    assert invoicing.invoice_basis(**args, **NOV).rows == []
    dec = invoicing.invoice_basis(**args, start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert [r.worked for r in dec.rows] == [45]


def test_who_may_invoice(world, sl, lead):
    approved(world, sl, "Úkol", 60)
    args = {"organisation_id": world.org_a.pk, **NOV}
    with pytest.raises(Forbidden):
        invoicing.invoice_basis(user=world.agent, **args)  # an agent does not invoice
    for customer in (world.alice, world.ada, world.bob):
        with pytest.raises(NotFound):
            invoicing.invoice_basis(user=customer, **args)
    # a lead of another desk sees none of this desk's work
    world.other_desk.staff.filter(user=world.outsider).update(role="lead")
    assert invoicing.invoice_basis(user=world.outsider, **args).rows == []
    run = invoicing.invoice_finalise(user=lead, **args)
    for stranger in (world.outsider, world.alice, world.bob):
        with pytest.raises((NotFound, Forbidden)):
            invoicing.invoice_run_get(user=stranger, run_id=run.pk)
    # and through the API: customers find no export at all
    for user in (world.alice, world.bob):
        assert Api(user).get(f"invoice-runs/{run.pk}/csv").status_code == 404
        q = f"invoice-basis?organisation={world.org_a.pk}&start=2026-11-01&end=2026-11-30"
        assert Api(user).get(q).status_code == 404


def test_bad_periods_are_refused(world, sl, lead):
    for start, end in (("2026-11-30", "2026-11-01"), ("2025-01-01", "2026-11-30"), ("x", "y")):
        with pytest.raises(InvalidInput):
            invoicing.invoice_basis(user=lead, organisation_id=world.org_a.pk, start=start, end=end)
    with pytest.raises(InvalidInput):
        invoicing.invoice_basis(user=lead, organisation_id=10**9, **NOV)


def test_the_api_previews_and_finalises(world, sl, lead):
    approved(world, sl, "Úkol", 60)
    api = Api(lead)
    q = f"invoice-basis?organisation={world.org_a.pk}&start=2026-11-01&end=2026-11-30"
    body = api.get(q).json()
    assert (body["entries"], body["worked_minutes"]) == (1, 60)
    assert api.get(q + "&format=csv").content.startswith(b"organisation,ticket")
    assert not TimeEntry.objects.filter(invoice_run__isnull=False).exists()
    created = api.post(
        "invoice-runs", {"organisation": world.org_a.pk, "start": "2026-11-01", "end": "2026-11-30"}
    )
    assert created.status_code == 201, created.content
    run = created.json()
    assert api.get(f"invoice-runs/{run['id']}").json()["csv_sha256"] == run["csv_sha256"]
    assert (
        Api(world.agent)
        .post(
            "invoice-runs",
            {"organisation": world.org_a.pk, "start": "2026-11-01", "end": "2026-11-30"},
        )
        .status_code
        == 403
    )


def test_the_admin_previews_and_finalises(client, world, sl, lead):
    approved(world, sl, "Úkol", 60)
    client.force_login(world.admin)
    url = "/admin/sheets/invoicerun/basis/"
    params = {"organisation": str(world.org_a.pk), **NOV}
    page = client.get(url, params)
    assert page.status_code == 200 and "Finalise: invoice these 1 entries" in page.content.decode()
    assert not InvoiceRun.objects.exists()
    response = client.post(url, {**params, "finalise": "1"})
    run = InvoiceRun.objects.get()
    assert response.status_code == 302
    assert client.get(f"/admin/sheets/invoicerun/{run.pk}/file/csv/").content == bytes(run.csv)
    assert client.get("/admin/sheets/invoicerun/").status_code == 200
    assert client.get(f"/admin/sheets/invoicerun/{run.pk}/change/").status_code == 200
