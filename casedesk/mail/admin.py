"""Mail in the admin: desk addresses and preferences are edited here; received and sent
mail are records, changed only through their services (actions below)."""

from django.contrib import admin, messages

from casedesk.common.errors import CasedeskError
from casedesk.desks.adminscope import DeskScoped, SuperusersOnly
from casedesk.jobs.admin import HeldAdmin
from casedesk.web.messages import say_whole

from .inbound.review import inbound_discard, inbound_reprocess
from .models import DeskMail, InboundMail, MailPreferences, OutboundMail
from .outbound.send import mail_retry


@admin.register(DeskMail)
class DeskMailAdmin(DeskScoped, admin.ModelAdmin):
    list_display = [
        "address",
        "desk",
        "unknown_senders",
        "unverified_senders",
        "contact_organisation",
    ]


@admin.register(MailPreferences)
class MailPreferencesAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["user", "new_tickets", "comments", "status_changes", "your_turn"]


class Records(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundMail)
class InboundMailAdmin(DeskScoped, Records):
    list_display = ["received_at", "desk", "from_address", "subject", "outcome", "ticket"]
    list_filter = ["outcome", "transport", ("desk", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["from_address", "subject", "message_id"]
    exclude = ["raw"]
    actions = ["discard", "reprocess"]

    @admin.action(description="Discard the selected held mail")
    def discard(self, request, queryset):
        for mail in queryset.filter(outcome=InboundMail.Outcome.HELD):
            try:
                inbound_discard(actor=request.user, mail_id=mail.pk)
            except CasedeskError as exc:
                self.message_user(request, say_whole(exc), messages.ERROR)

    @admin.action(description="Process the selected held mail again")
    def reprocess(self, request, queryset):
        done = inbound_reprocess(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{len(done)} mail(s) processed again")


@admin.register(OutboundMail)
class OutboundMailAdmin(DeskScoped, HeldAdmin, Records):
    list_display = ["created_at", "desk", "kind", "address", "subject", "status", "attempts"]
    list_filter = ["status", "kind", ("desk", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["address", "subject", "message_id"]
    actions = ["retry"]
    held_actions: tuple[str, ...] = ("discard_held",)  # sending again is `retry`, checked per desk

    @admin.action(description="Send the selected failed mail again")
    def retry(self, request, queryset):
        for mail in queryset.filter(status=OutboundMail.Status.FAILED):
            mail_retry(actor=request.user, mail=mail)
