"""Files on tickets: accepting them, storing them safely, and handing them out safely.

Every way a file arrives (portal, agent workspace, API, mail) comes through
`store_attachments`, so the same allowlist and size cap apply everywhere. Files are written
under generated names in a per-desk directory (0640 files, 0750 directories); the person's
file name is kept only for display, cleaned of paths and invisible characters.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import FileResponse

from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.common.files import KINDS, FileRefused, clean_name, extension, kind_of

from .changes import TicketChange, ticket_change
from .models import Attachment, Comment, Ticket

SNIFF = 2048


class Upload(Protocol):
    """What a file must offer: a name (Django's UploadedFile may have none), and its bytes
    in chunks."""

    @property
    def name(self) -> str | None: ...

    def chunks(self) -> Iterable[bytes]: ...


class BytesUpload:
    """An upload from bytes in memory (mail parts, API bodies, tests)."""

    def __init__(self, name: str, data: bytes):
        self.name, self.data = name, data

    def chunks(self) -> Iterable[bytes]:
        for start in range(0, len(self.data), 64 * 1024):
            yield self.data[start : start + 64 * 1024]


def _spool(upload: Upload, label: str, name: str):
    """Copy an upload to a temporary file, enforcing the size cap as it streams."""
    limit = settings.CASEDESK_MAX_ATTACHMENT_BYTES
    digest, size, head = hashlib.sha256(), 0, b""
    spool = tempfile.SpooledTemporaryFile(max_size=1024**2)  # noqa: SIM115 (returned, closed by caller)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise InvalidInput(
                {label: Problem("attachment.too_large", name=name, limit_mb=limit // 1024**2)}
            )
        if len(head) < SNIFF:
            head += chunk[: SNIFF - len(head)]
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, size, head, digest.hexdigest()


def store_attachments(
    change: TicketChange,
    uploads: list[Upload],
    *,
    comment: Comment | None,
    internal: bool,
    channel: str | None = None,
) -> list[Attachment]:
    """Check and store files as part of a change to a ticket; all or none. `channel` is
    how the files came, when that differs from the change's."""
    ticket, user, now = change.ticket, change.user, change.now
    channel = channel or change.channel
    if len(uploads) > settings.CASEDESK_MAX_ATTACHMENTS:
        raise InvalidInput(
            {"attachments": Problem("attachment.too_many", limit=settings.CASEDESK_MAX_ATTACHMENTS)}
        )
    written: list[str] = []
    stored: list[Attachment] = []
    try:
        for index, upload in enumerate(uploads):
            label = f"attachments.{index}"
            name = clean_name(getattr(upload, "name", "") or "")
            spool, size, head, sha = _spool(upload, label, name)
            with spool:
                try:
                    kind = kind_of(name, head)
                except FileRefused as exc:
                    raise InvalidInput(
                        {label: Problem(exc.code, name=name, **exc.params)}
                    ) from None
                path = f"attachments/{ticket.desk_id}/{now:%Y/%m}/{uuid.uuid4().hex}"
                path = default_storage.save(path, File(spool, name=path))
            written.append(path)
            stored.append(
                Attachment.objects.create(
                    ticket=ticket,
                    desk_id=ticket.desk_id,
                    comment=comment,
                    uploaded_by=user if getattr(user, "pk", None) else None,
                    file=path,
                    name=name,
                    size=size,
                    content_type=kind.content_type,
                    sha256=sha,
                    internal=internal,
                    channel=channel,
                    created_at=now,
                )
            )
            change.record(
                "attachment",
                channel=channel,
                public=not internal,
                attachment=stored[-1].pk,
                name=name,
                size=size,
            )
    except BaseException:
        for path in written:  # nothing stays on disk for a change that did not happen
            default_storage.delete(path)
        raise
    return stored


def attachment_add(
    *,
    actor,
    ticket: Ticket,
    uploads: list[Upload],
    internal: bool = False,
    channel: str = "web",
    expected_version: int | None = None,
) -> list[Attachment]:
    """Attach files to a ticket without a comment (staff may attach internal ones)."""
    if not uploads:
        raise InvalidInput({"attachments": Problem("attachment.required")})
    verb = "note.add" if internal else "comment.add"
    with ticket_change(
        user=actor,
        ticket_id=ticket.pk,
        expected_version=expected_version,
        verb=verb,
        channel=channel,
    ) as change:
        stored = store_attachments(change, uploads, comment=None, internal=internal)
        if not internal:
            change.touch(activity=True)
    return stored


def attachment_get_for_actor(*, user, attachment_id: int) -> Attachment:
    """An attachment this person may download; NotFound otherwise, like a missing one."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFound("attachment.not_found") from None
    rows = Attachment.objects.filter(pk=attachment_id, ticket__in=Ticket.objects.visible_to(user))
    if not getattr(user, "is_supplier_staff", False):
        rows = rows.filter(internal=False)
    found = rows.first()
    if found is None:
        raise NotFound("attachment.not_found")
    return found


def attachment_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """The file as a download that a browser will not run: a download by default (inline
    only for images), the type from the allowlist, no sniffing, and a sandbox."""
    kind = KINDS.get(extension(attachment.name))
    content_type = kind.content_type if kind else "application/octet-stream"
    show_inline = bool(inline and kind and kind.inline)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=content_type,
        as_attachment=not show_inline,
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=0"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _stored_files(top: str):
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders.extend(f"{folder}/{name}" for name in subfolders)
        yield from (f"{folder}/{name}" for name in files)


def attachment_orphans_remove(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove stored files that no attachment row names, older than `older_than`: what a
    process killed between writing a file and committing its row leaves behind (a
    rollback removes its files itself). Returns how many were removed."""
    limit = datetime.now(UTC) - older_than  # the files' real age, whatever the clock says
    removed = 0
    batch: list[str] = []

    def sweep(paths: list[str]) -> int:
        known = set(Attachment.objects.filter(file__in=paths).values_list("file", flat=True))
        gone = 0
        for path in paths:
            if path not in known and default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
                gone += 1
        return gone

    for path in _stored_files("attachments"):
        batch.append(path)
        if len(batch) == 500:
            removed, batch = removed + sweep(batch), []
    return removed + (sweep(batch) if batch else 0)
