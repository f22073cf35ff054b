"""Request bodies are refused by their size before anything reads or stores them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.tickets.models import Attachment, Ticket
from tests.api.conftest import Api


def test_someone_not_signed_in_may_send_only_a_small_body(client, world):
    page = client.post("/login/", {"username": "alice", "password": "x" * 70_000})
    assert page.status_code == 413
    upload = SimpleUploadedFile("big.txt", b"x" * 70_000, "text/plain")
    page = client.post("/portal/new/", {"title": "t", "attachments": upload})
    assert page.status_code == 413 and not Ticket.objects.exists()


def test_signed_in_people_send_files_up_to_the_request_limit(client, world, settings):
    settings.CASEDESK_MAX_REQUEST_BYTES = 200_000
    client.force_login(world.alice)
    small = SimpleUploadedFile("ok.txt", b"x" * 100_000, "text/plain")
    page = client.post("/portal/new/", {"desk": world.desk.pk, "title": "t", "attachments": small})
    big = SimpleUploadedFile("big.txt", b"x" * 250_000, "text/plain")
    refused = client.post("/portal/new/", {"desk": world.desk.pk, "title": "u", "attachments": big})
    assert refused.status_code == 413
    assert page.status_code == 302 and Attachment.objects.get().size == 100_000
    assert not Ticket.objects.filter(title="u").exists()


def test_a_body_without_files_is_small_even_for_the_signed_in(client, world, ticket, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(world.alice)
    page = client.post(
        f"/portal/t/{ticket.key}/comment/",
        urlencode({"body": "x" * 20_000}),
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 413 and ticket.comments.count() == 0


def test_the_api_answers_too_large_in_its_own_shape(world, ticket):
    anonymous = Api(None).post("tickets", {"title": "x" * 70_000})
    assert anonymous.status_code == 413 and anonymous.json()["kind"] == "too_large"
