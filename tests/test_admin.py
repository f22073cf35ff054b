"""The admin lists every model, and its pages render for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from casedesk.ops.demo import demo_load

OURS = ("accounts", "desks", "jobs", "tickets", "mail", "api", "webhooks")


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
