"""Releases in the admin: every addition goes through the services, which check who may
and what is valid; deployments and fixes, once stored, are for looking only."""

from django.contrib import admin, messages

from casedesk.desks.adminscope import DeskScoped, desk_ids_of

from .models import Deployment, Environment, Release, TicketFix, VersionLine
from .services import (
    deployment_record,
    environment_declare,
    line_create,
    release_create,
    release_publish,
)


class Scoped(DeskScoped):
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if not request.user.is_superuser and model in (VersionLine, Release, Environment):
            kwargs["queryset"] = model.objects.filter(desk_id__in=desk_ids_of(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(VersionLine)
class VersionLineAdmin(Scoped, admin.ModelAdmin):
    list_display = ["name", "desk", "position"]
    fields = ["desk", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["desk", "name"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pk = line_create(actor=request.user, desk=obj.desk, name=obj.name).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(Scoped, admin.ModelAdmin):
    list_display = ["version", "line", "desk", "position", "published_on"]
    list_filter = [("desk", admin.RelatedOnlyFieldListFilter)]
    fields = ["line", "version", "position", "published_on"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        return ["line", "version", "position", "published_on"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            obj.pk = release_create(
                actor=request.user,
                line=data["line"],
                version=data["version"],
                position=data.get("position"),
                published_on=data.get("published_on"),
            ).pk

    @admin.action(description="Publish: the update is out")
    def publish(self, request, queryset):
        for release in queryset:
            release_publish(actor=request.user, release=release)
        messages.success(request, f"{queryset.count()} published")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Environment)
class EnvironmentAdmin(Scoped, admin.ModelAdmin):
    list_display = ["name", "tier", "organisation", "desk", "current"]
    list_filter = ["tier", ("desk", admin.RelatedOnlyFieldListFilter)]
    fields = ["organisation", "desk", "name", "tier"]

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", "desk", "name", "tier"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pk = environment_declare(
                actor=request.user,
                organisation=obj.organisation,
                desk=obj.desk,
                name=obj.name,
                tier=obj.tier,
            ).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Deployment)
class DeploymentAdmin(Scoped, admin.ModelAdmin):
    """Recording a deployment here moves the tickets waiting for it, as the API does."""

    list_display = ["release", "environment", "organisation", "deployed_at", "pipeline_id"]
    list_filter = [("desk", admin.RelatedOnlyFieldListFilter)]
    fields = ["environment", "release", "deployed_at", "pipeline_id"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields, "recorded_by", "received_at"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        stored, _ = deployment_record(
            actor=request.user,
            environment=data["environment"],
            release=data["release"],
            pipeline_id=data["pipeline_id"],
            deployed_at=data["deployed_at"],
        )
        obj.pk = stored.pk
        obj._state.adding = False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketFix)
class TicketFixAdmin(Scoped, admin.ModelAdmin):
    list_display = ["ticket", "release", "kind", "audience", "open", "withdrawn_at"]
    list_filter = ["kind", "audience", "open"]
    readonly_fields = [f.name for f in TicketFix._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
