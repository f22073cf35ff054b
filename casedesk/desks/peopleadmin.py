"""Organisations and people in the admin, scoped to the desks of whoever looks (they
live here, not in accounts, because the scope is made of desks)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from casedesk.accounts.models import Organisation, User
from casedesk.common.settings_checks import language_choices, time_zone_choices

from .adminscope import OrganisationScoped, PeopleScoped


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScoped, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "language",
        "members_see_all_tickets",
        "notify_all_members_on_new",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":
            kwargs["widget"] = forms.Select(choices=language_choices())
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(User)
class CasedeskUserAdmin(PeopleScoped, UserAdmin):
    list_display = ["username", "email", "kind", "organisation", "customer_role", "is_active"]
    list_filter = ["kind", "customer_role", "is_active", "is_superuser"]
    list_select_related = ["organisation"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Casedesk",
            {"fields": ["kind", "organisation", "customer_role", "language", "time_zone"]},
        ),
    )
    add_fieldsets = (
        *(UserAdmin.add_fieldsets or ()),
        ("Casedesk", {"fields": ["kind", "organisation", "customer_role", "language"]}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":
            kwargs["widget"] = forms.Select(choices=language_choices(blank=True))
        if db_field.name == "time_zone":
            kwargs["widget"] = forms.Select(choices=[("", "---------"), *time_zone_choices()])
        return super().formfield_for_dbfield(db_field, request, **kwargs)
