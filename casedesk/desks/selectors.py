"""Reads of organisations and people, scoped to who asks. Someone a person may not see is
NotFound, exactly like someone who does not exist."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casedesk.accounts.models import Organisation, User
from casedesk.common.errors import NotFound

from .models import Desk, StaffMembership


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def organisations_visible_to(user) -> QuerySet[Organisation]:
    """Superusers: all; staff: the organisations of their desks; customers: their own."""
    if not _active(user):
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    if user.is_supplier_staff:
        desks = user.desk_memberships.values("desk_id")
        orgs = Desk.organisations.through.objects.filter(desk_id__in=desks)
        return Organisation.objects.filter(pk__in=orgs.values("organisation_id"))
    return Organisation.objects.filter(pk=user.organisation_id)


def people_visible_to(user) -> QuerySet[User]:
    """Superusers: everyone; staff: themselves, staff of their desks and the people of
    their desks' organisations; customers: the people of their own organisation."""
    if not _active(user):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    if user.is_supplier_staff:
        desks = user.desk_memberships.values("desk_id")
        staff = StaffMembership.objects.filter(desk_id__in=desks).values("user_id")
        orgs = Desk.organisations.through.objects.filter(desk_id__in=desks).values(
            "organisation_id"
        )
        return User.objects.filter(Q(pk=user.pk) | Q(pk__in=staff) | Q(organisation_id__in=orgs))
    return User.objects.filter(organisation_id=user.organisation_id)


def organisation_get_for_actor(*, user, organisation_id: int) -> Organisation:
    found = organisations_visible_to(user).filter(pk=organisation_id).first()
    if found is None:
        raise NotFound("organisation.not_found")
    return found


def person_get_for_actor(*, user, person_id: int) -> User:
    found = people_visible_to(user).select_related("organisation").filter(pk=person_id).first()
    if found is None:
        raise NotFound("person.not_found")
    return found
