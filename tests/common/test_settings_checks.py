"""Enumerated settings (time zones, languages, roles, mail policies) are refused when
unknown: by the model's save(), whatever calls it, and by the admin, on their field."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.test import RequestFactory

from casedesk.accounts.models import Organisation, User
from casedesk.desks.models import Desk, StaffMembership
from casedesk.desks.services import desk_create, preset_store
from casedesk.mail.models import DeskMail


def _refused(instance, field: str, code: str | None = None):
    with pytest.raises(ValidationError) as refused:
        instance.save()
    assert set(refused.value.error_dict) == {field}
    if code is not None:
        assert [e.code for e in refused.value.error_dict[field]] == [code]
    return refused.value.error_dict[field][0]


@pytest.mark.parametrize("zone", ["Europe/Copenhaggen", "CET+1", "", "localtime", "../etc"])
def test_a_desk_refuses_an_unknown_time_zone(world, zone):
    desk = Desk.objects.get(pk=world.desk.pk)
    desk.time_zone = zone
    error = _refused(desk, "time_zone")
    assert zone == "" or zone in error.messages[0]
    assert Desk.objects.get(pk=desk.pk).time_zone == "UTC"


def test_a_desk_keeps_a_real_time_zone(world):
    world.desk.time_zone = "Europe/Copenhagen"
    world.desk.save()
    assert Desk.objects.get(pk=world.desk.pk).time_zone == "Europe/Copenhagen"


def test_a_new_desk_with_a_mistyped_zone_is_not_made(db):
    with pytest.raises(ValidationError):
        desk_create(
            name="Typo", key_prefix="TYP", workflow=preset_store("default"), time_zone="Utc/Zulu"
        )
    assert not Desk.objects.filter(key_prefix="TYP").exists()


def test_a_save_of_other_fields_does_not_check_the_zone_again(world):
    Desk.objects.filter(pk=world.desk.pk).update(time_zone="Mars/Olympus")  # an old row
    desk = Desk.objects.get(pk=world.desk.pk)
    desk.name = "Renamed"
    desk.save(update_fields=["name"])
    desk.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError):
        desk.save()


@pytest.mark.parametrize("language", ["xx", "EN", "en-us", ""])
def test_an_organisation_refuses_an_unknown_language(world, language):
    world.org_a.language = language
    _refused(world.org_a, "language")
    assert Organisation.objects.get(pk=world.org_a.pk).language == "en"


def test_a_person_refuses_an_unknown_language_but_may_have_none(world):
    world.alice.language = "klingon"
    assert _refused(world.alice, "language", "language.unknown")
    world.alice.language = ""
    world.alice.save()
    world.alice.language = "da"
    world.alice.save()
    assert User.objects.get(pk=world.alice.pk).language == "da"


@pytest.mark.parametrize(
    ("field", "value"), [("kind", "robot"), ("customer_role", "owner")], ids=["kind", "role"]
)
def test_a_person_refuses_an_unknown_kind_or_role(world, field, value):
    setattr(world.alice, field, value)
    _refused(world.alice, field, "invalid_choice")


def test_a_desk_role_must_be_one_of_the_staff_roles(world):
    membership = StaffMembership.objects.get(desk=world.desk, user=world.agent)
    membership.role = "boss"
    _refused(membership, "role", "invalid_choice")
    assert StaffMembership.objects.get(pk=membership.pk).role == "agent"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("unknown_senders", "forward", "invalid_choice"),
        ("address", "not an address", "invalid"),
        ("team_address", "team@", "invalid"),
    ],
)
def test_a_desk_mail_address_refuses_bad_values(world, field, value, code):
    mail = DeskMail(desk=world.desk, address="help@supplier.example")
    mail.save()
    setattr(mail, field, value)
    _refused(mail, field, code)


def _admin_form(model, obj, changes, user):
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    form_class = model_admin.get_form(request, obj, change=True)
    data = {k: v for k, v in model_to_dict(obj).items() if v is not None}
    data.update(changes)
    return form_class(data, instance=obj)


def test_the_admin_shows_an_unknown_time_zone_on_its_field(world):
    form = _admin_form(Desk, world.desk, {"time_zone": "Europe/Atlantis"}, world.admin)
    assert not form.is_valid()
    assert list(form.errors) == ["time_zone"]
    choices = [value for value, _ in form.fields["time_zone"].widget.choices]
    assert "Europe/Copenhagen" in choices and "Europe/Atlantis" not in choices
    good = _admin_form(Desk, world.desk, {"time_zone": "Europe/Prague"}, world.admin)
    assert good.is_valid(), good.errors


def test_the_admin_shows_an_unknown_language_on_its_field(world, client):
    client.force_login(world.admin)
    url = f"/admin/accounts/organisation/{world.org_a.pk}/change/"
    page = client.post(url, {"name": "Org A", "slug": "org-a", "language": "xx"})
    assert page.status_code == 200
    assert page.context["adminform"].form.errors.keys() == {"language"}
    assert Organisation.objects.get(pk=world.org_a.pk).language == "en"
    done = client.post(url, {"name": "Org A", "slug": "org-a", "language": "nl"})
    assert done.status_code == 302
    assert Organisation.objects.get(pk=world.org_a.pk).language == "nl"
    person = _admin_form(User, world.alice, {"language": "xx"}, world.admin)
    assert "language" in person.errors


@pytest.mark.django_db(transaction=True)
def test_values_stored_before_the_checks_are_set_to_the_defaults_they_acted_as():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("accounts", "0001_initial"), ("desks", "0001_initial")]
    after = [("accounts", "0003_validated_settings"), ("desks", "0002_validated_settings")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        org = old.get_model("accounts", "Organisation").objects.create(
            name="Old", slug="old", language="en-gb"
        )
        kept = old.get_model("accounts", "Organisation").objects.create(
            name="Kept", slug="kept", language="da"
        )
        person = old.get_model("accounts", "User").objects.create(
            username="old",
            kind="customer",
            organisation=org,
            customer_role="member",
            language="klingon",
        )
        version = old.get_model("desks", "WorkflowVersion").objects.create(
            slug="x", version=1, checksum="0" * 64, source="", origin=""
        )
        desks = old.get_model("desks", "Desk").objects
        typo = desks.create(
            name="T", slug="t", key_prefix="TT", workflow=version, time_zone="Europe/Copenhaggen"
        )
        good = desks.create(
            name="G", slug="g", key_prefix="GG", workflow=version, time_zone="Europe/Prague"
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        languages = dict(
            new.get_model("accounts", "Organisation").objects.values_list("pk", "language")
        )
        assert languages == {org.pk: "en", kept.pk: "da"}
        assert new.get_model("accounts", "User").objects.get(pk=person.pk).language == ""
        zones = dict(new.get_model("desks", "Desk").objects.values_list("pk", "time_zone"))
        assert zones == {typo.pk: "UTC", good.pk: "Europe/Prague"}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


# -- the words of a refused value: the catalogue's, in the reader's language -------------


def test_a_refused_value_carries_its_code_and_is_worded_when_read(world):
    from django.utils import translation

    world.desk.time_zone = "Europe/Atlantis"
    error = _refused(world.desk, "time_zone", "time_zone.unknown")
    assert error.problem.params == {"value": "Europe/Atlantis"}
    with translation.override("en"):
        english = str(error.messages[0])
    with translation.override("da"):
        danish = str(error.messages[0])
    assert "Europe/Atlantis" in english and "Europe/Atlantis" in danish
    assert english != danish  # one error, worded when it is read


@pytest.mark.parametrize("lang", ["en", "da", "nl", "cs", "sv"])
def test_the_admin_words_a_model_check_in_the_editors_language(world, client, lang):
    from casedesk.common.errors import Problem
    from casedesk.web.messages import say

    world.admin.language = lang
    world.admin.save()
    client.force_login(world.admin)
    mail = DeskMail.objects.create(desk=world.desk, address="help@supplier.example")
    page = client.post(
        f"/admin/mail/deskmail/{mail.pk}/change/",
        {
            **{k: v for k, v in model_to_dict(mail).items() if v is not None},
            "team_address": "HELP@supplier.example",
        },
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert list(errors) == ["team_address"]
    assert errors["team_address"] == [say(Problem("mail.team_address.loop"), lang)]
    assert DeskMail.objects.get(pk=mail.pk).team_address == ""


def test_a_malformed_network_is_refused_with_its_code(db):
    from casedesk.webhooks.models import AllowedNetwork

    network = AllowedNetwork(network="10.1.2.300/24")
    with pytest.raises(ValidationError) as refused:
        network.full_clean()
    (error,) = refused.value.error_dict["network"]
    assert error.code == "webhook.network.malformed"
    assert not AllowedNetwork.objects.exists()
