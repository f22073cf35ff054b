"""Who manages a desk's webhooks, and what they see of them."""

from __future__ import annotations

from casedesk.webhooks.models import WebhookSubscription
from tests.api.conftest import Api


def test_only_the_desks_admins_manage_its_webhooks(world, desk_admin):
    url = f"desks/{world.desk.pk}/webhooks"
    body = {"url": "https://hooks.example.org/in", "events": ["ticket.created"]}
    # whoever works with the desk but is not its admin is told no; others find no desk
    refusals = {"alice": 403, "ada": 403, "agent": 403, "lead": 403, "outsider": 404}
    for who, status in refusals.items():
        caller = Api(getattr(world, who))
        assert caller.post(url, body).status_code == status, who
        assert caller.get(url).status_code == status, who
    assert not WebhookSubscription.objects.exists()
    admin = Api(desk_admin)
    made = admin.post(url, body)
    assert made.status_code == 201 and len(made.json()["secret"]) == 64
    sub = made.json()
    assert sub["events"] == ["ticket.created"] and sub["active"]
    listed = admin.get(url).json()
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    assert "secret" not in admin.get(f"webhooks/{sub['id']}").json()
    assert Api(world.admin).get(f"webhooks/{sub['id']}").status_code == 200
    assert Api(world.lead).get(f"webhooks/{sub['id']}").status_code == 404
    wrong = admin.patch(f"webhooks/{sub['id']}", {"events": ["ticket.exploded"]})
    assert wrong.status_code == 422
    changed = admin.patch(f"webhooks/{sub['id']}", {"description": "CRM", "active": False})
    assert changed.json()["description"] == "CRM" and not changed.json()["active"]
    assert admin.delete(f"webhooks/{sub['id']}").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_the_allowlist_of_private_ranges_is_for_superusers_only(world, client, desk_admin):
    desk_admin.is_staff = True  # may use the admin site, but is no superuser
    desk_admin.save()
    client.force_login(desk_admin)
    assert client.get("/admin/webhooks/allowednetwork/").status_code == 403
    client.force_login(world.admin)
    page = client.post("/admin/webhooks/allowednetwork/add/", {"network": "not a net"})
    assert page.status_code == 200 and "does not appear to be" in page.content.decode()
    done = client.post("/admin/webhooks/allowednetwork/add/", {"network": "10.1.2.3/24"})
    assert done.status_code == 302
    from casedesk.webhooks.models import AllowedNetwork

    assert AllowedNetwork.objects.get().network == "10.1.2.0/24"


def test_the_admin_shows_subscriptions_deliveries_and_attempts(
    world, client, desk_admin, app_consumers
):
    from casedesk.ops.worker import run_once
    from casedesk.tickets import services
    from casedesk.webhooks.models import AllowedNetwork, WebhookAttempt, WebhookDelivery
    from casedesk.webhooks.services import subscription_create

    allowance = AllowedNetwork.objects.create(network="10.9.9.0/24")
    sub, _ = subscription_create(actor=desk_admin, desk=world.desk, url="http://10.9.9.9/in")
    allowance.delete()
    services.ticket_create(actor=world.alice, desk=world.desk, title="x")
    run_once()  # refused before any connection: the allowance is gone
    client.force_login(world.admin)
    delivery, attempt = WebhookDelivery.objects.get(), WebhookAttempt.objects.get()
    for url in (
        f"/admin/webhooks/webhooksubscription/{sub.pk}/change/",
        f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/",
        f"/admin/webhooks/webhookattempt/{attempt.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert sub.secret not in page.content.decode()


def test_switching_a_subscription_on_in_the_admin_clears_its_failures(world, client, desk_admin):
    from casedesk.webhooks.services import subscription_create

    sub, _ = subscription_create(actor=desk_admin, desk=world.desk, url="https://example.org/in")
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        active=False, consecutive_failures=20, disabled_reason="20 failed attempts"
    )
    client.force_login(world.admin)
    page = client.post(
        f"/admin/webhooks/webhooksubscription/{sub.pk}/change/",
        {"description": "CRM", "active": "on"},
    )
    assert page.status_code == 302
    sub.refresh_from_db()
    assert (sub.active, sub.consecutive_failures, sub.disabled_reason) == (True, 0, "")
    assert sub.description == "CRM"
