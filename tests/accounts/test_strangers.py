"""Strangers' contacts share nothing, whatever order things are changed in: once a desk
opens tickets for unknown senders in an organisation, no interface can let its members see
each other's tickets (the service, the API, the admin, and the database itself)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from casedesk.accounts.models import Organisation
from casedesk.accounts.services import organisation_update
from casedesk.common.errors import InvalidInput
from casedesk.mail.models import DeskMail
from tests.api.conftest import Api


@pytest.fixture
def guests(world):
    org = Organisation.objects.create(name="Guests", slug="guests", members_see_all_tickets=False)
    world.desk.organisations.add(org)
    mail = DeskMail(
        desk=world.desk,
        address="support@gen.example",
        unknown_senders="open",
        contact_organisation=org,
    )
    mail.full_clean()
    mail.save()
    org.refresh_from_db()
    assert org.holds_strangers
    return org


def test_the_service_refuses_to_share_and_changes_nothing(world, guests):
    with pytest.raises(InvalidInput) as refused:
        organisation_update(actor=world.admin, organisation=guests, members_see_all_tickets=True)
    assert "members_see_all_tickets" in refused.value.errors
    guests.refresh_from_db()
    assert guests.members_see_all_tickets is False


def test_the_api_refuses_it_with_the_field_named(world, guests):
    answer = Api(world.admin).patch(f"organisations/{guests.pk}", {"members_see_all_tickets": True})
    assert answer.status_code == 422
    guests.refresh_from_db()
    assert guests.members_see_all_tickets is False


def test_the_admin_form_refuses_it(world, guests, client):
    client.force_login(world.admin)
    page = client.post(
        f"/admin/accounts/organisation/{guests.pk}/change/",
        {"name": "Guests", "slug": "guests", "language": "en", "members_see_all_tickets": "on"},
    )
    assert page.status_code == 200 and b"unknown senders" in page.content
    guests.refresh_from_db()
    assert guests.members_see_all_tickets is False


def test_the_database_refuses_it_on_any_path(world, guests):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=guests.pk).update(members_see_all_tickets=True)
    with pytest.raises(ValidationError):
        guests.members_see_all_tickets = True
        guests.full_clean()


def test_a_sharing_organisation_cannot_become_the_strangers_one(world):
    mail = DeskMail(
        desk=world.desk,
        address="x@gen.example",
        unknown_senders="open",
        contact_organisation=world.org_a,
    )
    with pytest.raises(ValidationError):
        mail.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        mail.save()  # without clean(), the database still says no
    world.org_a.refresh_from_db()
    assert not world.org_a.holds_strangers
