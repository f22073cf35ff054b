"""The printed sheet: one template for the printable page and the stored PDF."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from casedesk.tickets.models import Ticket

from .models import Sheet
from .selectors import SheetView, _views

CSS = Path(__file__).parent / "static" / "sheets" / "print.css"


def sheet_html(
    ticket: Ticket,
    sheet_id: int | None = None,
    *,
    lang: str,
    for_pdf: bool = False,
    views: list[SheetView] | None = None,
) -> str:
    """The sheets of `ticket` (or the one `sheet_id`) as a page; `views`: the ticket's
    sheets if the caller read them already (`sheets_for`), so they are not read twice."""
    views = [
        v
        for v in (_views(ticket) if views is None else views)
        if sheet_id is None or v.sheet.pk == sheet_id
    ]
    with translation.override(lang):
        return render_to_string(
            "sheets/print.html",
            {
                "ticket": ticket,
                "views": views,
                "tz": ticket.desk.time_zone,
                "for_pdf": for_pdf,
                "LANGUAGE_CODE": lang,
            },
        )


def sheet_pdf_store(sheet_id: int) -> bool:
    """Print an approved sheet once, in its organisation's language, and keep the PDF with
    its checksum. A sheet printed already keeps its first PDF: it is what was approved."""
    from weasyprint import CSS as Stylesheet
    from weasyprint import HTML

    sheet = Sheet.objects.select_related("ticket__desk", "organisation").filter(pk=sheet_id).first()
    if sheet is None or sheet.pdf_sha256 or sheet.state not in ("approved", "invoiced"):
        return False
    html = sheet_html(
        sheet.ticket, sheet.pk, lang=sheet.organisation.language or "en", for_pdf=True
    )
    pdf = HTML(string=html).write_pdf(stylesheets=[Stylesheet(filename=str(CSS))])
    digest = hashlib.sha256(pdf).hexdigest()
    return bool(Sheet.objects.filter(pk=sheet.pk, pdf_sha256="").update(pdf=pdf, pdf_sha256=digest))
