"""Tickets in the admin are for looking only: every change goes through the services,
where the workflow and the permissions are checked and history is written."""

from django.contrib import admin

from casedesk.desks.adminscope import DeskScoped
from casedesk.jobs.admin import HeldAdmin

from .models import (
    Attachment,
    Comment,
    OutboxItem,
    Participant,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTimer,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "internal", "channel", "body"]


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["at", "actor", "actor_kind", "channel", "kind", "public", "data"]


@admin.register(Ticket)
class TicketAdmin(DeskScoped, ReadOnly):
    list_display = [
        "key",
        "title",
        "status",
        "sub_status",
        "turn",
        "organisation",
        "assignee",
        "updated_at",
    ]
    list_filter = [("desk", admin.RelatedOnlyFieldListFilter), "category", "turn"]
    list_select_related = ["organisation", "assignee"]
    search_fields = ["key", "title"]
    show_full_result_count = False
    inlines = [CommentInline, EventInline]


@admin.register(TicketEvent)
class TicketEventAdmin(DeskScoped, ReadOnly):
    list_display = ["ticket", "at", "kind", "actor", "channel", "public"]
    list_filter = ["kind", "channel"]
    list_select_related = ["ticket", "actor"]
    show_full_result_count = False


@admin.register(Comment)
class CommentAdmin(DeskScoped, ReadOnly):
    list_display = ["ticket", "created_at", "author", "internal"]
    list_select_related = ["ticket", "author"]
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(DeskScoped, ReadOnly):
    list_display = ["ticket", "name", "size", "content_type", "internal", "created_at"]
    list_select_related = ["ticket"]
    show_full_result_count = False
    exclude = ["file"]  # downloads go through the checked, sandboxed view, not a media URL


class DeskRecords(DeskScoped, ReadOnly):
    pass


admin.site.register(TicketLink, DeskRecords)
admin.site.register(Participant, DeskRecords)


@admin.register(TicketTimer)
class TicketTimerAdmin(DeskScoped, HeldAdmin, ReadOnly):
    """A timer whose firing kept failing is held here; retried, it fires on the next round."""

    list_display = ["ticket", "timer", "due_at", "attempts", "held_at"]
    list_select_related = ["ticket"]


@admin.register(OutboxItem)
class OutboxItemAdmin(DeskScoped, HeldAdmin, ReadOnly):
    """History entries a consumer could not take; retried, they go on the next round."""

    list_display = [
        "id",
        "consumer",
        "event",
        "next_attempt_at",
        "attempts",
        "held_at",
        "last_error",
    ]
    list_filter = ["consumer"]
    list_select_related = ["event"]
    desk_path = "event__desk"
