"""The customer portal, through the real URLs, as customers of two organisations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.tickets import services
from casedesk.tickets.models import Comment, Ticket
from tests.helpers import version
from tests.pages import body


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


def test_list_shows_the_organisations_tickets_only(alice, world):
    mine = services.ticket_create(actor=world.alice, desk=world.desk, title="Alice's printer")
    amirs = services.ticket_create(actor=world.amir, desk=world.desk, title="Amir's screen")
    bobs = services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-bob")
    page = alice.get("/portal/").content.decode()
    assert mine.key in page and amirs.key in page and "Waiting for support" in page
    assert bobs.key not in page and "CANARY-bob" not in page
    page = alice.get("/portal/?scope=mine").content.decode()
    assert mine.key in page and amirs.key not in page


def test_list_filters_waiting_for_me_closed_and_search(alice, world):
    waiting = services.ticket_create(actor=world.alice, desk=world.desk, title="Need input")
    services.ticket_transition(
        actor=world.agent, ticket=waiting, transition="ask_customer", comment="Which printer?"
    )
    other = services.ticket_create(actor=world.alice, desk=world.desk, title="Quiet one")
    page = alice.get("/portal/?waiting=1").content.decode()
    assert waiting.key in page and other.key not in page
    assert "Your turn" in page
    page = alice.get("/portal/?q=quiet").content.decode()
    assert other.key in page and waiting.key not in page
    services.ticket_transition(actor=world.agent, ticket=other, transition="cancel", comment="x")
    assert other.key not in alice.get("/portal/").content.decode()
    assert other.key in alice.get("/portal/?state=closed").content.decode()
    # nonsense in the query string is ignored, never an error
    assert alice.get("/portal/?sort=evil&state=x&scope=y&cursor=forged").status_code == 200


def test_list_filters_active_and_inactive_and_greys_the_inactive(alice, world):
    going = services.ticket_create(actor=world.alice, desk=world.desk, title="Still going")
    done = services.ticket_create(actor=world.alice, desk=world.desk, title="Called off")
    services.ticket_transition(actor=world.agent, ticket=done, transition="cancel", comment="x")
    bobs = services.ticket_create(actor=world.bob, desk=world.desk, title="CANARY-bob")
    services.ticket_transition(actor=world.agent, ticket=bobs, transition="cancel", comment="x")
    page = alice.get("/portal/?state=any&activity=inactive").content.decode()
    assert done.key in page and going.key not in page and bobs.key not in page
    row = re.search(rf'<tr class="([^"]*)">\s*<td class="key nowrap">{done.key}<', page)
    assert row and row.group(1) == "inactive" and "Inactive</span>" in page
    page = alice.get("/portal/?state=any&activity=active").content.decode()
    assert going.key in page and done.key not in page and "Inactive</span>" not in page
    both = alice.get("/portal/?state=any").content.decode()
    assert going.key in both and done.key in both
    assert alice.get("/portal/?activity=evil").status_code == 200  # ignored, not an error


def test_htmx_filter_returns_only_the_list(alice, world):
    services.ticket_create(actor=world.alice, desk=world.desk, title="Printer")
    response = alice.get("/portal/?q=printer", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<table" in body and "<html" not in body


def test_create_a_ticket_with_a_file(alice, world):
    page = alice.get("/portal/new/").content.decode()
    assert "Choose the service this is about" in page  # two desks: choose first
    page = alice.get(f"/portal/new/?desk={world.desk.pk}").content.decode()
    assert 'name="title"' in page and "Incident" in page
    upload = SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain")
    response = alice.post(
        "/portal/new/",
        {
            "desk": world.desk.pk,
            "title": "Printer jams",
            "description": "Every **page**",
            "type": "question",
            "priority": "high",
            "attachments": [upload],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/portal/new/{ticket.key}/"
    assert (ticket.reporter, ticket.type, ticket.priority) == (world.alice, "question", "high")
    assert ticket.attachments.get().name == "log.txt"
    page = alice.get(response["Location"]).content.decode()
    assert ticket.key in page


def test_create_errors_keep_what_was_typed(alice, world):
    response = alice.post(
        "/portal/new/",
        {"desk": world.desk.pk, "title": "  ", "description": "Long story I typed"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Please fill this in." in page and "Long story I typed" in page
    assert 'aria-invalid="true"' in page
    bad = SimpleUploadedFile("x.html", b"<script>", content_type="text/html")
    response = alice.post(
        "/portal/new/", {"desk": world.desk.pk, "title": "T", "attachments": [bad]}
    )
    assert response.status_code == 422
    assert "not accepted" in response.content.decode()
    assert not Ticket.objects.exists()


def test_create_on_a_desk_of_another_organisation_is_refused(client, world):
    client.force_login(world.bob)  # org B does not use other_desk
    response = client.post("/portal/new/", {"desk": world.other_desk.pk, "title": "T"})
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_ticket_page_answers_where_and_what_next(alice, world, ticket, clock):
    services.ticket_assign(actor=world.agent, ticket=ticket, assignee=world.agent)
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="start")
    services.comment_add(actor=world.agent, ticket=ticket, body="CANARY-note", internal=True)
    services.ticket_transition(
        actor=world.agent, ticket=ticket, transition="resolve", comment="Replaced the *toner*"
    )
    page = alice.get(f"/portal/t/{ticket.key}/").content.decode()
    assert "Resolved" in page and "Your turn" in page
    assert "Confirm it is solved" in page and "It is not solved" in page
    # the timer, with its date in the desk's time zone: seven quiet days after resolving
    due = clock() + timedelta(days=7)
    assert f"closes on Nov. {due.day}, 2026" in page
    assert "<em>toner</em>" in page
    assert "CANARY-note" not in page and "internal note" not in page.lower()
    assert "Start work" in page  # the history, in words


def test_customer_approves_once_they_confirm_it_ends_the_ticket(alice, world, ticket):
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="resolve", comment="ok")
    ticket.refresh_from_db()
    page = alice.get(f"/portal/t/{ticket.key}/").content.decode()
    assert 'name="confirm"' in page and "I understand that this ends the ticket." in page
    response = alice.post(f"/portal/t/{ticket.key}/act/confirm/", {"version": ticket.version})
    assert response.status_code == 422
    assert "Please tick the box to confirm this step." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    response = alice.post(
        f"/portal/t/{ticket.key}/act/confirm/", {"version": ticket.version, "confirm": "1"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    # the confirmation names where the move led, not where the ticket was
    page = alice.get(response["Location"]).content.decode()
    assert "Done. The ticket is now: Closed." in page


def test_reopen_asks_for_the_reason_and_keeps_it_when_stale(alice, world, ticket):
    services.ticket_transition(actor=world.agent, ticket=ticket, transition="resolve", comment="ok")
    ticket.refresh_from_db()
    old = ticket.version
    response = alice.post(f"/portal/t/{ticket.key}/act/reopen/", {"version": old, "comment": ""})
    assert response.status_code == 422
    assert "Please fill this in." in response.content.decode()
    services.comment_add(actor=world.agent, ticket=ticket, body="one more thing")
    response = alice.post(
        f"/portal/t/{ticket.key}/act/reopen/", {"version": old, "comment": "Still broken TYPED"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed this ticket" in page and "Still broken TYPED" in page
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_forbidden_transition_is_refused(alice, world, ticket):
    response = alice.post(
        f"/portal/t/{ticket.key}/act/resolve/",
        {"version": version(ticket), "comment": "I resolve it"},
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_comment_with_file(alice, world, ticket):
    upload = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    response = alice.post(
        f"/portal/t/{ticket.key}/comment/",
        {"version": version(ticket), "body": "See **this**", "attachments": [upload]},
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.attachments.get().name == "shot.png"
    page = alice.get(f"/portal/t/{ticket.key}/").content.decode()
    assert "<strong>this</strong>" in page
    link = re.search(r'href="(/files/\d+/)"', page).group(1)
    download = alice.get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


def test_other_organisation_gets_the_same_404(client, world, ticket):
    client.force_login(world.bob)
    missing = client.get("/portal/t/GEN-999/")
    theirs = client.get(f"/portal/t/{ticket.key}/")
    assert missing.status_code == theirs.status_code == 404
    assert body(missing) == body(theirs)
    for url in (
        f"/portal/t/{ticket.key}/comment/",
        f"/portal/t/{ticket.key}/act/cancel/",
        f"/portal/t/{ticket.key}/estimate/grant/",
    ):
        response = client.post(url, {"body": "x", "comment": "x"})
        assert response.status_code == 404 and body(response) == body(missing)
    assert not Comment.objects.exists()


def test_staff_have_no_portal(client, world, ticket):
    client.force_login(world.agent)
    assert client.get("/portal/").status_code == 404
    assert client.get(f"/portal/t/{ticket.key}/").status_code == 404


def test_status_guide(alice, world):
    page = alice.get(f"/portal/guide/{world.desk.pk}/").content.decode()
    assert "Waiting for you" in page and "Confirm it is solved" in page
    assert "7 days after the last activity" in page
    assert "customer members" in page and "agents" not in page  # who, of the customer's side
    page = alice.get(f"/portal/guide/{world.desk.pk}/?lang=da").content.decode()
    assert "Venter på dig" in page
    assert alice.get(f"/portal/guide/{world.other_desk.pk}/").status_code == 200
    assert alice.get("/portal/guide/99999/").status_code == 404


def test_text_over_the_limit_is_refused_and_kept(alice, world, ticket):
    long = "x" * 100_001
    response = alice.post(
        f"/portal/t/{ticket.key}/comment/", {"version": version(ticket), "body": long}
    )
    assert response.status_code == 422
    assert "too long" in response.content.decode()
    assert not ticket.comments.exists()


def test_htmx_history_restore_gets_the_whole_page(alice, world):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in alice.get("/portal/", headers=headers).content.decode()


def test_with_sharing_off_members_see_only_their_own(client, world):
    """T3: the organisation's policy decides; an org admin still sees everything."""
    world.org_a.members_see_all_tickets = False
    world.org_a.save()
    alices = services.ticket_create(actor=world.alice, desk=world.desk, title="Alice's")
    client.force_login(world.amir)
    assert alices.key not in client.get("/portal/?state=any").content.decode()
    assert client.get(f"/portal/t/{alices.key}/").status_code == 404
    client.force_login(world.ada)
    assert alices.key in client.get("/portal/?state=any").content.decode()
    assert client.get(f"/portal/t/{alices.key}/").status_code == 200


def test_a_form_without_the_ticket_version_changes_nothing(client, world, ticket):
    from tests.helpers import state

    client.force_login(world.alice)
    before = state(ticket)
    for sent in ({}, {"version": "abc"}, {"version": "-1"}):
        page = client.post(f"/portal/t/{ticket.key}/comment/", {"body": "hello", **sent})
        assert page.status_code == 428 and b"Reload the page" in page.content
    assert state(ticket) == before


def test_the_status_guide_is_for_customers_with_real_example_dates(alice, world):
    from tests.conftest import make_desk

    desk = make_desk("servisni_list", "SRV", [world.org_a], {world.agent: "agent"})
    page = alice.get(f"/portal/guide/{desk.pk}/?lang=en").content.decode()
    section = page[page.index('id="status-ke_schvaleni"') :]
    section = section[: section.index("</section>")]
    # the timer's words with the day filled in, and an example that counts from now
    assert "approved automatically on Nov. 7, 2026" in section
    assert "{date}" not in page and "…" not in page
    assert "For example: on Nov. 7, 2026" in section and "m.." not in page
    cancelled = page[page.index('id="status-zruseno"') :]
    assert "Nothing more: the case is over here." in cancelled[: cancelled.index("</section>")]
    # staff moves are in the appendix, not among what the customer can do
    appendix = page[page.index('id="for-staff"') :]
    assert "Appendix: what our staff can do" in appendix
    assert "Record the customer&#x27;s approval" in appendix
    assert "Record the customer" not in section and "Approve" in section
    # only the workflow's languages are offered, and a staff note never shows
    assert 'lang="cs"' in page and '?lang=da"' not in page and '?lang=nl"' not in page
    notes = [s.staff_note for s in desk.workflow.workflow.statuses.values() if s.staff_note]
    assert notes and not any(n["en"] in page for n in notes) and "staff-note" not in page
    # a language the workflow lacks gives its first, headings included
    czech = alice.get(f"/portal/guide/{desk.pk}/?lang=da").content.decode()
    assert "Co uvidíte" in czech and "schválena" in czech and "Det ser du" not in czech
