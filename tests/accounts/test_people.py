"""Who sees which organisations and people, and who may change them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from casedesk.accounts import services
from casedesk.accounts.models import Organisation, User
from casedesk.common.errors import Forbidden, InvalidInput, NotFound
from casedesk.desks import selectors


def names(rows):
    return sorted(str(getattr(r, "username", None) or r.slug) for r in rows)


def test_each_side_sees_its_own_organisations(world):
    lonely = Organisation.objects.create(name="Lonely", slug="lonely")
    assert names(selectors.organisations_visible_to(world.admin)) == ["lonely", "org-a", "org-b"]
    assert names(selectors.organisations_visible_to(world.agent)) == ["org-a", "org-b"]
    assert names(selectors.organisations_visible_to(world.outsider)) == ["org-a"]
    assert names(selectors.organisations_visible_to(world.alice)) == ["org-a"]
    assert names(selectors.organisations_visible_to(AnonymousUser())) == []
    with pytest.raises(NotFound):
        selectors.organisation_get_for_actor(user=world.agent, organisation_id=lonely.pk)
    with pytest.raises(NotFound):
        selectors.organisation_get_for_actor(user=world.bob, organisation_id=world.org_a.pk)


def test_each_side_sees_its_own_people(world):
    assert names(selectors.people_visible_to(world.bob)) == ["bob"]
    assert names(selectors.people_visible_to(world.alice)) == ["ada", "alice", "amir", "anna"]
    # the outsider works on a desk Org A uses, not Org B's
    assert "bob" not in names(selectors.people_visible_to(world.outsider))
    assert "agent" not in names(selectors.people_visible_to(world.outsider))
    seen = names(selectors.people_visible_to(world.agent))
    assert {"agent", "lead", "alice", "bob"} <= set(seen) and "outsider" not in seen
    with pytest.raises(NotFound):
        selectors.person_get_for_actor(user=world.bob, person_id=world.alice.pk)
    world.alice.is_active = False
    world.alice.save()
    assert names(selectors.people_visible_to(world.alice)) == []


def test_only_supplier_administrators_change_organisations_and_people(world):
    for intruder in (world.ada, world.lead, world.agent):
        with pytest.raises(Forbidden):
            services.organisation_create(actor=intruder, name="Evil")
        with pytest.raises(Forbidden):
            services.person_update(actor=intruder, person=world.bob, is_active=False)
    org = services.organisation_create(actor=world.admin, name="New Co", language="da")
    assert org.slug == "new-co"
    with pytest.raises(InvalidInput) as err:
        services.organisation_create(actor=world.admin, name="New Co", language="xx")
    assert set(err.value.errors) == {"slug", "language"}
    person = services.person_create(
        actor=world.admin,
        username="nina",
        email="nina@example.org",
        kind="customer",
        organisation=org,
        customer_role="approver",
    )
    assert not person.has_usable_password()
    with pytest.raises(InvalidInput):
        services.person_create(actor=world.admin, username="nina", email="", kind="staff")
    with pytest.raises(InvalidInput):
        services.person_create(actor=world.admin, username="x", email="", kind="customer")
    services.person_update(actor=world.admin, person=person, is_active=False)
    assert not User.objects.get(username="nina").is_active
    with pytest.raises(InvalidInput):
        services.person_update(actor=world.admin, person=person, is_superuser=True)
    with pytest.raises(InvalidInput):
        services.person_update(actor=world.admin, person=world.admin, is_active=False)
