"""Files on tickets (SECURITY-TESTS F): only allowed kinds, checked by content; stored
under generated names; handed out as downloads that never run; never to the wrong person."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError

from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.common.files import clean_name
from casedesk.tickets import services
from casedesk.tickets.attachments import (
    BytesUpload,
    attachment_get_for_actor,
    attachment_response,
)
from casedesk.tickets.models import Attachment, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


def files_on_disk(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_comment_with_files_stores_them_under_generated_names(world, ticket, settings):
    comment = services.comment_add(
        actor=world.alice,
        ticket=ticket,
        body="Screenshot attached",
        attachments=[BytesUpload("screen.png", PNG), BytesUpload("../../etc/passwd.pdf", PDF)],
    )
    png, pdf = comment.attachments.order_by("id")
    assert (png.name, png.content_type, png.size) == ("screen.png", "image/png", len(PNG))
    assert pdf.name == "passwd.pdf"  # the path is gone; only the name is kept for display
    for att in (png, pdf):
        assert att.file.name.startswith(f"attachments/{ticket.desk_id}/")
        assert "passwd" not in att.file.name and "screen" not in att.file.name
    on_disk = files_on_disk(settings)
    assert len(on_disk) == 2
    for path in on_disk:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert TicketEvent.objects.filter(ticket=ticket, kind="attachment").count() == 2


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.html", b"<html><script>alert(1)</script>"),
        ("x.svg", b"<svg onload=alert(1)>"),
        ("x.xhtml", b"<html/>"),
        ("x.js", b"alert(1)"),
        ("x.php", b"<?php system($_GET[1]);"),
        ("x.exe", b"MZ\x90\x00"),
        ("x.png.html", PNG),
        ("X.HTML", b"<html>"),
        ("x.png%00.html", PNG),
        ("x.png\x00.html", PNG),
        ("x.png", b"<html><script>alert(1)</script>"),  # the content is not a PNG
        ("x.pdf", PNG),
        ("notes.txt", b"MZ\x00\x00binary"),
        ("noextension", b"hello"),
        ("\u202egpj.exe", b"MZ"),
    ],
)
def test_files_a_browser_could_run_or_that_lie_about_their_type_are_refused(
    world, ticket, name, data, settings
):
    before = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises(InvalidInput) as caught:
        services.comment_add(
            actor=world.alice, ticket=ticket, body="see file", attachments=[BytesUpload(name, data)]
        )
    assert "attachments.0" in caught.value.errors
    assert not Attachment.objects.exists()
    assert TicketEvent.objects.filter(ticket=ticket).count() == before  # the comment too
    assert files_on_disk(settings) == []


def test_one_bad_file_refuses_the_whole_change_and_leaves_no_file(world, ticket, settings):
    with pytest.raises(InvalidInput):
        services.comment_add(
            actor=world.alice,
            ticket=ticket,
            body="two files",
            attachments=[BytesUpload("ok.pdf", PDF), BytesUpload("bad.svg", b"<svg>")],
        )
    assert files_on_disk(settings) == [] and not Attachment.objects.exists()


def test_size_limit_is_exact(world, ticket, settings):
    settings.CASEDESK_MAX_ATTACHMENT_BYTES = 1000
    services.comment_add(
        actor=world.alice,
        ticket=ticket,
        body="",
        attachments=[BytesUpload("fits.txt", b"a" * 1000)],
    )
    with pytest.raises(InvalidInput) as caught:
        services.comment_add(
            actor=world.alice,
            ticket=ticket,
            body="",
            attachments=[BytesUpload("big.txt", b"a" * 1001)],
        )
    assert caught.value.errors["attachments.0"] == Problem(
        "attachment.too_large", name="big.txt", limit_mb=0
    )
    settings.CASEDESK_MAX_ATTACHMENTS = 2
    with pytest.raises(InvalidInput):
        services.comment_add(
            actor=world.alice,
            ticket=ticket,
            body="",
            attachments=[BytesUpload(f"{i}.txt", b"a") for i in range(3)],
        )


def test_a_failure_after_the_file_was_written_leaves_no_file(world, ticket, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("the database went away")

    monkeypatch.setattr(Attachment.objects, "create", broken)
    with pytest.raises(IntegrityError):
        services.comment_add(
            actor=world.alice, ticket=ticket, body="x", attachments=[BytesUpload("ok.pdf", PDF)]
        )
    assert files_on_disk(settings) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../settings.py", "settings.py"),
        ("..\\..\\x.txt", "x.txt"),
        ("/etc/passwd", "passwd"),
        ("C:\\x.txt", "x.txt"),
        ("a/b.png", "b.png"),
        ("\u202egpj.exe", "gpj.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ('"\r\nSet-Cookie: x=1.txt', '"Set-Cookie: x=1.txt'),
        ("", "attachment"),
        (".", "attachment"),
        ("..", "attachment"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_display_names_are_cleaned(raw, clean):
    assert clean_name(raw) == clean


def test_downloads_never_run_in_the_browser(world, ticket):
    comment = services.comment_add(
        actor=world.alice,
        ticket=ticket,
        body="",
        attachments=[
            BytesUpload('rés"umé\r\n.txt', b"<script>alert(1)</script>"),
            BytesUpload("s.png", PNG),
        ],
    )
    text, image = comment.attachments.order_by("id")
    response = attachment_response(text, inline=True)  # inline is only for images
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''r%C3%A9s%22um%C3%A9.txt" in response["Content-Disposition"]
    assert (
        "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert attachment_response(image, inline=True)["Content-Disposition"].startswith("inline;")


def test_attachments_follow_ticket_visibility_and_internal_notes(world, ticket):
    public = services.comment_add(
        actor=world.alice, ticket=ticket, body="", attachments=[BytesUpload("p.pdf", PDF)]
    ).attachments.get()
    secret = services.comment_add(
        actor=world.agent,
        ticket=ticket,
        body="internal",
        internal=True,
        attachments=[BytesUpload("s.pdf", PDF)],
    ).attachments.get()
    assert secret.internal
    assert attachment_get_for_actor(user=world.amir, attachment_id=public.pk) == public
    assert attachment_get_for_actor(user=world.agent, attachment_id=secret.pk) == secret
    for user, att in ((world.amir, secret), (world.bob, public), (world.outsider, public)):
        with pytest.raises(NotFound):
            attachment_get_for_actor(user=user, attachment_id=att.pk)
    for bad in (public.pk + 1000, "1 OR 1=1", None, "-1"):
        with pytest.raises(NotFound):
            attachment_get_for_actor(user=world.agent, attachment_id=bad)
    with pytest.raises(NotFound):  # and nobody attaches to a ticket they cannot see
        services.attachment_add(actor=world.bob, ticket=ticket, uploads=[BytesUpload("x.pdf", PDF)])


def test_attachments_when_opening_a_ticket(world, settings):
    t = services.ticket_create(
        actor=world.alice,
        desk=world.desk,
        title="With a file",
        attachments=[BytesUpload("log.txt", b"error at line 3")],
    )
    assert t.attachments.get().name == "log.txt"
    assert os.path.exists(default_storage.path(t.attachments.get().file.name))


def test_files_left_by_a_killed_process_are_swept_up(world, ticket, settings):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from casedesk.tickets.attachments import attachment_orphans_remove

    (kept,) = services.attachment_add(
        actor=world.alice, ticket=ticket, uploads=[BytesUpload("a.txt", b"kept")]
    )
    orphan = default_storage.save(f"attachments/{ticket.desk_id}/2026/11/orphan", ContentFile(b"x"))
    assert attachment_orphans_remove() == 0  # too young: it may belong to a running change
    assert attachment_orphans_remove(older_than=timedelta(0)) == 1
    assert not default_storage.exists(orphan) and default_storage.exists(kept.file.name)
