"""The service sheet in the admin. Kinds of work and rounding rules are set up here;
sheets and entries are for looking only: the workflow moves sheets, and entries are
written once and put right by a correction, never edited or removed."""

from django.contrib import admin

from casedesk.desks.adminscope import DeskScoped

from .models import InvoiceRun, RoundingRule, Sheet, TimeEntry, WorkKind


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
    list_display = ["organisation", "period_start", "period_end", "entries", "finalised_at"]
    exclude = ["csv", "xlsx"]
