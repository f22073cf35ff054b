"""The admin lists every model, and its pages render for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from casedesk.ops.demo import demo_load

OURS = ("accounts", "desks", "jobs", "tickets", "sheets", "mail", "api", "webhooks")


def test_every_model_is_in_the_admin():
    missing = [
        m.__name__
        for m in apps.get_models()
        if m._meta.app_label in OURS and m not in admin.site._registry
    ]
    assert not missing


@pytest.mark.django_db
def test_admin_pages_render_with_demo_data(client):
    demo_load()
    from casedesk.accounts.models import User

    client.force_login(User.objects.get(username="admin"))
    for model in admin.site._registry:
        if model._meta.app_label not in OURS:
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        first = model.objects.first()
        if first is not None:
            assert client.get(f"{base}{first.pk}/change/").status_code == 200, base


@pytest.mark.django_db
def test_adding_a_workflow_in_the_admin_checks_it_whole(admin_client):
    from casedesk.desks.models import WorkflowVersion
    from casedesk.workflow.loader import PRESETS

    source = (PRESETS / "default.yaml").read_text()
    broken = source.replace("to: cancelled", "to: canceled")
    page = admin_client.post(
        "/admin/desks/workflowversion/add/", {"source": broken, "origin": "mine.yaml"}
    )
    assert page.status_code == 200
    assert "unknown status &#x27;canceled&#x27;" in page.content.decode()
    assert not WorkflowVersion.objects.exists()
    done = admin_client.post(
        "/admin/desks/workflowversion/add/", {"source": source, "origin": "mine.yaml"}
    )
    assert done.status_code == 302
    assert WorkflowVersion.objects.get().slug == "default"


@pytest.mark.django_db
def test_staff_see_in_the_admin_only_the_desks_they_have_a_role_on(client):
    """A staff member with every view permission but a role on one desk only finds no row
    of another desk anywhere in the admin, internal notes included, nor anything that
    belongs to no desk."""
    from django.contrib.auth.models import Permission

    from casedesk.accounts.models import User
    from casedesk.desks.models import Desk, StaffMembership
    from casedesk.tickets.models import Comment, Ticket
    from casedesk.tickets.services import comment_add

    demo_load()
    mine, theirs = Desk.objects.get(key_prefix="SDA"), Desk.objects.get(key_prefix="TMS")
    viewer = User.objects.create_user("viewer", "v@supplier.example", "pw", kind="staff")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    StaffMembership.objects.create(desk=mine, user=viewer, role="agent")
    secret = comment_add(
        actor=User.objects.get(username="agent"),
        ticket=Ticket.objects.filter(desk=theirs).first(),
        body="CANARY-internal-TMS",
        internal=True,
    )
    client.force_login(viewer)
    seen_rows = 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OURS:
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        page = client.get(base)
        desk_path = getattr(model_admin, "desk_path", None)
        if desk_path is None:
            continue
        assert page.status_code == 200, base
        rows = model_admin.get_queryset(type("R", (), {"user": viewer})())
        foreign = model.objects.exclude(pk__in=rows.values("pk"))
        assert not rows.exclude(**{f"{desk_path}__in": [mine.pk]}).exists(), base
        seen_rows += rows.count()
        for other in foreign[:3]:
            assert client.get(f"{base}{other.pk}/change/").status_code == 302, base
    assert seen_rows > 0
    assert b"CANARY" not in client.get("/admin/tickets/comment/").content
    tickets = client.get("/admin/tickets/ticket/").content.decode()
    assert "Kundecenter" not in tickets  # nor the other desk's name in the filters
    assert client.get(f"/admin/tickets/comment/{secret.pk}/change/").status_code == 302
    assert Comment.objects.filter(pk=secret.pk).exists()
    organisations = client.get("/admin/accounts/organisation/").content.decode()
    assert "Nordhavn" in organisations and "Brabant" not in organisations  # SDA: nordhavn, gota
    people = client.get("/admin/accounts/user/?q=brabant").content.decode()
    assert "brabant.member" not in people
    for superusers_only in ("desks/workflowversion", "webhooks/allowednetwork", "api/apitoken"):
        assert client.get(f"/admin/{superusers_only}/").status_code == 403
