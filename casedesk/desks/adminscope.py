"""The Django admin respects desks: a staff member who is not a superuser sees, and may
act on, only the rows of desks they have a role on (internal notes included), and only
superusers see what belongs to no desk (workflow versions, network allowances...).

Admin permissions (`is_staff` and model permissions) still decide which screens someone
may open at all; this decides which rows they find there."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casedesk.accounts.models import Organisation

from .models import Desk, StaffMembership


def desk_ids_of(user) -> QuerySet:
    return StaffMembership.objects.filter(user=user).values("desk_id")


class DeskScoped:
    """Mixin for a ModelAdmin (or inline) whose rows belong to a desk through `desk_path`."""

    desk_path: str | None = "desk"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.desk_path}__in": desk_ids_of(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.related_model is Desk:
                kwargs["queryset"] = Desk.objects.filter(pk__in=desk_ids_of(request.user))
            elif db_field.related_model is Organisation:
                kwargs["queryset"] = organisations_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def organisations_of(user) -> QuerySet:
    through = Desk.organisations.through.objects.filter(desk_id__in=desk_ids_of(user))
    return Organisation.objects.filter(pk__in=through.values("organisation_id"))


class OrganisationScoped(DeskScoped):
    """Organisations: those that use one of the staff member's desks."""

    desk_path = None

    def get_queryset(self, request):
        rows = super(DeskScoped, self).get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(pk__in=organisations_of(request.user).values("pk"))


class PeopleScoped(DeskScoped):
    """People: the staff member, the staff of their desks and their desks' customers."""

    desk_path = None

    def get_queryset(self, request):
        rows = super(DeskScoped, self).get_queryset(request)
        user = request.user
        if user.is_superuser:
            return rows
        staff = StaffMembership.objects.filter(desk_id__in=desk_ids_of(user)).values("user_id")
        orgs = organisations_of(user).values("pk")
        return rows.filter(Q(pk=user.pk) | Q(pk__in=staff) | Q(organisation_id__in=orgs))


class SuperusersOnly:
    """Rows that belong to no desk: for superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)
