from django import forms
from django.contrib import admin

from casedesk.common.settings_checks import time_zone_choices
from casedesk.workflow import WorkflowError, load_text

from . import peopleadmin  # noqa: F401 (registers organisations and people)
from .adminscope import DeskScoped, SuperusersOnly
from .models import Desk, StaffMembership, Team, WorkflowVersion
from .services import team_sync, workflow_store


class WorkflowVersionForm(forms.ModelForm):
    class Meta:
        model = WorkflowVersion
        fields = ["source", "origin"]

    def clean_source(self):
        source = self.cleaned_data["source"]
        try:
            load_text(source, self.cleaned_data.get("origin") or "workflow")
        except WorkflowError as exc:
            raise forms.ValidationError([str(p) for p in exc.problems]) from None
        return source


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(SuperusersOnly, admin.ModelAdmin):
    """Versions are immutable: add a new one, never edit an old one."""

    form = WorkflowVersionForm
    list_display = ["slug", "version", "checksum", "origin", "created_at"]
    search_fields = ["slug", "origin"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug", "version", "checksum", "source", "origin", "created_at"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            stored = workflow_store(
                source=form.cleaned_data["source"], origin=form.cleaned_data["origin"]
            )
            obj.pk = stored.pk
            obj.__dict__.update({k: v for k, v in stored.__dict__.items() if not k.startswith("_")})

    def has_delete_permission(self, request, obj=None):
        return False


class StaffInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    autocomplete_fields = ["user"]


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0
    filter_horizontal = ["members"]


@admin.register(Team)
class TeamAdmin(DeskScoped, admin.ModelAdmin):
    list_display = ["name", "slug", "desk"]
    list_filter = [("desk", admin.RelatedOnlyFieldListFilter)]
    filter_horizontal = ["members"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(DeskScoped, admin.ModelAdmin):
    list_display = ["user", "desk", "role"]
    list_filter = [("desk", admin.RelatedOnlyFieldListFilter), "role"]
    list_select_related = ["user", "desk"]


class DeskForm(forms.ModelForm):
    class Meta:
        model = Desk
        fields = ["name", "slug", "key_prefix", "workflow", "time_zone", "organisations"]
        widgets = {"time_zone": forms.Select(choices=time_zone_choices())}


@admin.register(Desk)
class DeskAdmin(DeskScoped, admin.ModelAdmin):
    desk_path = "pk"
    form = DeskForm
    list_display = ["name", "key_prefix", "workflow", "time_zone"]
    search_fields = ["name", "key_prefix"]
    filter_horizontal = ["organisations"]
    inlines = [StaffInline, TeamInline]
    prepopulated_fields = {"slug": ["name"]}

    def get_readonly_fields(self, request, obj=None):
        return ["key_prefix", "next_number"] if obj else ["next_number"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        team_sync(obj)
