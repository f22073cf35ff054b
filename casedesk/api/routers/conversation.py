"""Comments, internal notes and files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints

from casedesk.common.markdown import render
from casedesk.tickets import selectors, services
from casedesk.tickets.attachments import attachment_get_for_actor, attachment_response

from ..context import expected_version, with_etag
from ..schemas import Id, In, PersonRef, Schema, Version, person_ref
from .tickets import KeyPath, errors

router = Router(tags=["conversation"])


class CommentOut(Schema):
    id: int
    author: PersonRef | None
    body: str = Field(description="Markdown, as written")
    body_html: str = Field(description="the body rendered and sanitised")
    internal: bool
    channel: str
    created_at: datetime


class CommentIn(In):
    body: Annotated[str, StringConstraints(max_length=100_000)]
    internal: bool = Field(False, description="staff: an internal note customers never see")
    version: Version | None = None


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    internal: bool
    comment: int | None
    created_at: datetime
    url: str


def comment_out(c) -> dict:
    return {
        "id": c.pk,
        "author": person_ref(c.author),
        "body": c.body,
        "body_html": render(c.body),
        "internal": c.internal,
        "channel": c.channel,
        "created_at": c.created_at,
    }


def attachment_out(a) -> dict:
    return {
        "id": a.pk,
        "name": a.name,
        "size": a.size,
        "content_type": a.content_type,
        "sha256": a.sha256,
        "internal": a.internal,
        "comment": a.comment_id,
        "created_at": a.created_at,
        "url": f"/api/v1/attachments/{a.pk}",
    }


@router.get(
    "/tickets/{key}/comments", response={200: list[CommentOut], **errors()}, summary="Comments"
)
def comments_list(request: HttpRequest, key: KeyPath):
    """The conversation, oldest first; staff also see internal notes (`internal`)."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [comment_out(c) for c in selectors.comments_for(user=request.user, ticket=ticket)]


@router.post(
    "/tickets/{key}/comments", response={201: CommentOut, **errors()}, summary="Add a comment"
)
def comment_add(request: HttpRequest, response: HttpResponse, key: KeyPath, payload: CommentIn):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    comment = services.comment_add(
        actor=request.user,
        ticket=ticket,
        body=payload.body,
        internal=payload.internal,
        expected_version=expected_version(request, payload.version),
        channel="api",
    )
    ticket.refresh_from_db(fields=["version"])
    with_etag(response, ticket.version)
    return Status(201, comment_out(comment))


@router.get(
    "/tickets/{key}/attachments",
    response={200: list[AttachmentOut], **errors()},
    summary="Files",
)
def attachments_list(request: HttpRequest, key: KeyPath):
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    return [attachment_out(a) for a in selectors.attachments_for(user=request.user, ticket=ticket)]


@router.post(
    "/tickets/{key}/attachments",
    response={201: list[AttachmentOut], **errors()},
    summary="Upload files",
)
def attachments_add(
    request: HttpRequest,
    key: KeyPath,
    files: File[list[UploadedFile]],
    internal: Form[bool] = False,
):
    """multipart/form-data with one or more `files`; the allowlist of types and the size
    limit are the same as everywhere else."""
    ticket = selectors.ticket_get_for_actor(user=request.user, key=key)
    stored = services.attachment_add(
        actor=request.user, ticket=ticket, uploads=list(files), internal=internal, channel="api"
    )
    return Status(201, [attachment_out(a) for a in stored])


@router.get(
    "/attachments/{attachment_id}",
    response={200: None, **errors()},
    summary="Download a file",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the file, as a download",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def attachment_download(request: HttpRequest, attachment_id: Id):
    found = attachment_get_for_actor(user=request.user, attachment_id=attachment_id)
    return attachment_response(found)
