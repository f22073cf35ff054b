"""The service sheet in the admin. Kinds of work and rounding rules are set up here;
sheets and entries are for looking only: the workflow moves sheets, and entries are
written once and put right by a correction, never edited or removed."""

from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from casedesk.accounts.models import Organisation
from casedesk.common.errors import CasedeskError
from casedesk.common.replica import replica_read
from casedesk.desks.adminscope import DeskScoped
from casedesk.desks.models import StaffMembership

from . import invoicing
from .invoicing import INVOICING_ROLES
from .models import Estimate, InvoiceRun, RoundingRule, Sheet, TimeEntry, WorkKind


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkKind)
class WorkKindAdmin(DeskScoped, admin.ModelAdmin):
    list_display = ["slug", "desk", "billable", "active", "position"]
    list_filter = ["desk", "billable", "active"]

    def has_delete_permission(self, request, obj=None):
        # a kind with entries stays (PROTECT); retire it with `active` instead
        return obj is None or not obj.entries.exists()


@admin.register(RoundingRule)
class RoundingRuleAdmin(admin.ModelAdmin):
    list_display = ["organisation", "kind", "increment", "minimum", "mode"]
    list_filter = ["organisation"]


@admin.register(Sheet)
class SheetAdmin(DeskScoped, ReadOnly):
    list_display = ["ticket", "cycle", "state", "approved_at", "approved_how", "invoiced_at"]
    list_filter = ["state", "desk"]
    exclude = ["pdf"]
    readonly_fields = ["why_read_only"]

    @admin.display(description="Why this is read-only")
    def why_read_only(self, obj) -> str:
        if obj.state in ("approved", "invoiced"):
            return f"The sheet is {obj.state} and locked; its entries no longer change."
        return "The sheet moves only with the ticket's workflow (submit, approve, return)."


@admin.register(TimeEntry)
class TimeEntryAdmin(DeskScoped, ReadOnly):
    list_display = ["ticket", "day", "worker", "minutes", "kind", "billable", "corrects"]
    list_filter = ["desk", "billable", "kind"]
    readonly_fields = ["why_read_only"]

    @admin.display(description="Why this is read-only")
    def why_read_only(self, obj) -> str:
        if obj.sheet.state in ("approved", "invoiced"):
            return f"The service sheet is {obj.sheet.state} and locked: this entry cannot change."
        return (
            "Time entries are written once. Correct one from the ticket page or the API: "
            "the correction is a new entry linked to this one."
        )


@admin.register(InvoiceRun)
class InvoiceRunAdmin(ReadOnly):
    """Finalised runs, with their files as they were made; the invoice basis page previews
    and finalises new ones."""

    list_display = ["organisation", "period_start", "period_end", "entries", "finalised_at"]
    exclude = ["csv", "xlsx"]
    readonly_fields = ["files"]
    change_list_template = "sheets/admin/invoicerun_list.html"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        desks = StaffMembership.objects.filter(user=request.user, role__in=INVOICING_ROLES).values(
            "desk_id"
        )
        return rows.filter(marked__desk_id__in=desks).distinct()

    @admin.display(description="Files")
    def files(self, obj) -> str:
        return format_html(
            '<a href="{}">CSV</a> (SHA-256 {}) · <a href="{}">XLSX</a> (SHA-256 {})',
            reverse("admin:sheets_invoicerun_file", args=[obj.pk, "csv"]),
            obj.csv_sha256,
            reverse("admin:sheets_invoicerun_file", args=[obj.pk, "xlsx"]),
            obj.xlsx_sha256,
        )

    def get_urls(self):
        own = [
            path(
                "basis/",
                self.admin_site.admin_view(self.basis_view),
                name="sheets_invoicerun_basis",
            ),
            path(
                "<int:run_id>/file/<str:fmt>/",
                self.admin_site.admin_view(self.file_view),
                name="sheets_invoicerun_file",
            ),
        ]
        return own + super().get_urls()

    def basis_view(self, request):
        """Preview the basis of an organisation and period; finalise it on purpose."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Invoice basis",
            "organisations": Organisation.objects.order_by("name"),
            "values": request.POST if request.method == "POST" else request.GET,
        }
        params = context["values"]
        if params.get("organisation"):
            args = {
                "user": request.user,
                "organisation_id": params.get("organisation") or None,
                "start": params.get("start", ""),
                "end": params.get("end", ""),
            }
            try:
                if request.method == "POST" and params.get("finalise") == "1":
                    run = invoicing.invoice_finalise(**args)
                    messages.success(request, f"Finalised: {run.entries} entries invoiced.")
                    return redirect("admin:sheets_invoicerun_change", run.pk)
                context["basis"] = replica_read(lambda: invoicing.invoice_basis(**args))
            except CasedeskError as exc:
                context["problem"] = exc  # said in the reader's language by the template
        return TemplateResponse(request, "sheets/admin/basis.html", context)

    def file_view(self, request, run_id: int, fmt: str):
        try:
            run = invoicing.invoice_run_get(user=request.user, run_id=run_id)
        except CasedeskError:
            raise Http404 from None
        if fmt not in ("csv", "xlsx"):
            raise Http404
        response = HttpResponse(
            bytes(run.csv if fmt == "csv" else run.xlsx),
            content_type="text/csv" if fmt == "csv" else "application/octet-stream",
        )
        response["Content-Disposition"] = f'attachment; filename="invoice-{run.pk}.{fmt}"'
        return response


@admin.register(Estimate)
class EstimateAdmin(DeskScoped, ReadOnly):
    """For looking only: staff set estimates and approvers grant them on the ticket, where
    each step is kept in the history."""

    desk_path = "ticket__desk"
    list_display = ["ticket", "hours", "granted_hours", "granted_by", "granted_at"]
    list_select_related = ["ticket", "granted_by"]
    search_fields = ["ticket__key"]
