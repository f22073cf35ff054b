"""People choose which mails they get, on their own page."""

from __future__ import annotations

from casedesk.mail.models import MailPreferences
from casedesk.mail.preferences import preferences_for


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/mail/preferences/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_person_turns_mails_off_and_on(client, world, django_assert_max_num_queries):
    client.force_login(world.alice)
    with django_assert_max_num_queries(4):  # session, user, preferences
        page = client.get("/mail/preferences/")
    assert page.status_code == 200 and b'name="comments" checked' in page.content
    assert not MailPreferences.objects.exists()  # reading writes nothing
    response = client.post("/mail/preferences/", {"new_tickets": "on", "your_turn": "on",
                                                   "is_superuser": "on"})  # fmt: skip
    assert response.status_code == 302
    assert preferences_for(user=world.alice) == {
        "new_tickets": True,
        "comments": False,
        "status_changes": False,
        "your_turn": True,
        "reminders": False,
        "assignments": False,
    }
    world.alice.refresh_from_db()
    assert not world.alice.is_superuser
    assert preferences_for(user=world.amir)["comments"] is True  # only her own


def test_the_page_needs_a_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert client.post("/mail/preferences/", {}).status_code == 403
    assert not MailPreferences.objects.exists()
