"""The SLA records in the admin: revisions and clocks are what the services computed, so
they are read-only here (held clocks have the jobs' retry and discard actions). The
calendar, the plans and each organisation's plan are edited in the admin through the
services: see `casedesk.web.admin`, which says their refusals through the catalogue."""

from django.contrib import admin

from casedesk.jobs.admin import HeldAdmin

from .models import SlaRevision, TicketClock


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaRevision)
class RevisionAdmin(ReadOnly):
    list_display = ["desk", "at", "note"]


@admin.register(TicketClock)
class ClockAdmin(HeldAdmin, ReadOnly):
    list_display = ["ticket", "target", "cycle", "due_at", "breached_at", "met_at", "held_at"]
    list_filter = ["target"]
    raw_id_fields = ["ticket"]
