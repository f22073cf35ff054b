from django.contrib import admin

from casedesk.desks.adminscope import DeskScoped, SuperusersOnly
from casedesk.jobs.admin import HeldAdmin

from .models import AllowedNetwork, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .services import subscription_update


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(DeskScoped, admin.ModelAdmin):
    list_display = ["url", "desk", "active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["active", ("desk", admin.RelatedOnlyFieldListFilter)]
    # The address and events change through the API, which checks them; here an
    # administrator switches a subscription off or on, or deletes it.
    readonly_fields = [
        "desk",
        "url",
        "events",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
    ]
    exclude = ["secret", "created_by"]

    def has_add_permission(self, request):
        return False  # made through the API, which shows the secret once

    def save_model(self, request, obj, form, change):
        subscription_update(
            actor=request.user,
            subscription=obj,
            description=obj.description,
            active=obj.active,
        )


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "address", "status_code", "error", "duration_ms", "response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DeskScoped, HeldAdmin, admin.ModelAdmin):
    desk_path = "subscription__desk"

    list_display = ["event_type", "subscription", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "event_type"]
    list_select_related = ["subscription__desk"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(DeskScoped, admin.ModelAdmin):
    desk_path = "delivery__subscription__desk"

    list_display = ["delivery", "at", "status_code", "error"]
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AllowedNetwork)
class AllowedNetworkAdmin(SuperusersOnly, admin.ModelAdmin):
    """Private or local ranges webhooks may reach. Superusers only: each entry lets desk
    admins point requests into the supplier's own network."""

    list_display = ["network", "note"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission
