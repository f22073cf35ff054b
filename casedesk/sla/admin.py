"""Staff see the service levels here; they change them through the services (the API),
which check every input and keep the revisions, so these pages are read-only."""

from django.contrib import admin

from casedesk.jobs.admin import HeldAdmin

from .models import BusinessCalendar, CalendarDay, SlaPlan, SlaRevision, SlaTarget, TicketClock


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0
    fields = ["day", "kind", "name", "hours", "source_version"]
    readonly_fields = ["day", "kind", "name", "hours", "source_version"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BusinessCalendar)
class CalendarAdmin(ReadOnly):
    list_display = ["desk", "zone", "always", "holiday_country", "holiday_subdivision"]
    inlines = [DayInline]


class TargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0
    readonly_fields = ["priority", "target", "minutes"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SlaPlan)
class PlanAdmin(ReadOnly):
    list_display = ["name", "desk", "desk_default", "around_the_clock", "warn_percent"]
    inlines = [TargetInline]


@admin.register(SlaRevision)
class RevisionAdmin(ReadOnly):
    list_display = ["desk", "at", "note"]


@admin.register(TicketClock)
class ClockAdmin(HeldAdmin, ReadOnly):
    list_display = ["ticket", "target", "cycle", "due_at", "breached_at", "met_at", "held_at"]
    list_filter = ["target"]
    raw_id_fields = ["ticket"]
