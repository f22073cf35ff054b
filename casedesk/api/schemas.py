"""What the API says: response shapes, and how rows become them for one viewer.

Customers get allowlists: no internal notes or files, no staff-only fields, no e-mail
addresses of staff. Every label is in the viewer's language.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from django.utils import translation
from ninja import Schema as NinjaSchema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from casedesk.common.markdown import render
from casedesk.tickets.selectors import workflow_of
from casedesk.web import present

ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
MAX_ID = 2**53  # ids fit in a JSON number and in a 64-bit column

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="the version you last read")]
Name = Annotated[str, StringConstraints(max_length=100)]
FieldValue = Annotated[str, StringConstraints(max_length=10_000)] | int | float | None


class Schema(BaseModel):
    """An answer. Plain pydantic: the routers build dicts, so ninja's attribute lookup on
    ORM objects (a validator per nested object) is not needed, and it is most of the cost
    of answering a list (bench/api.py)."""


class In(NinjaSchema):
    """A JSON body: unknown fields are errors, never silently dropped, and every value must
    have its JSON type (no "5" for 5, no 0 for false)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryIn(NinjaSchema):
    """Query parameters: text by nature, converted; unknown ones are errors."""

    model_config = ConfigDict(extra="forbid")


def _iso_only(value):
    if isinstance(value, str) and ISO_TIME.match(value):
        return value
    raise ValueError("give a date and time as ISO 8601, e.g. 2026-11-02T09:00:00Z")


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC: a database may not take every offset ISO 8601 allows
    (PostgreSQL refuses +19:12), and an instant is all a filter needs."""
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise ValueError("give a date and time within the years 1 to 9999") from None


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class PersonRef(Schema):
    id: int
    name: str
    kind: str


class DeskRef(Schema):
    id: int
    key_prefix: str
    name: str


class OrganisationRef(Schema):
    id: int
    name: str


class TeamRef(Schema):
    slug: str
    name: str


class Choice(Schema):
    key: str
    label: str


class ActionOut(Schema):
    key: str
    label: str
    target: str = Field(description="where the ticket goes, in the viewer's words")
    prompt: str = Field(description="the question to answer when a comment is required")
    needs: list[str] = Field(description="comment, assignee, customer_assignee, field:<name>")
    fields: list[Choice]
    sub_choices: list[Choice]


class AutomaticOut(Schema):
    action: str
    target: str
    due_at: datetime | None
    notice: str
    event: str | None = None
    environment: str | None = None
    since: str = Field("", description="for timers: entered or last_activity, what it counts from")


class NextStepOut(Schema):
    status: str
    sub_status: str
    label: str
    status_label: str
    sub_label: str
    explanation: str
    sub_explanation: str
    category: str
    turn: str
    active: bool
    flags: list[str]
    actions: list[ActionOut]
    timer: AutomaticOut | None
    events: list[AutomaticOut]
    reply_pending: bool
    waits_for: list[str] = Field(
        description="on the customer's turn, the customer roles whose turn it is"
    )
    viewer_turn: bool = Field(description="whether it is your turn")
    held: AutomaticOut | None = Field(
        None,
        description="the timer an unanswered customer reply holds back: it acts only once "
        "staff have answered publicly (counted again from that answer when `since` is "
        "last_activity); `due_at` is when it would act if answered now",
    )
    staff_note: str = Field(
        "", description="what the workflow tells staff about this status; empty for customers"
    )


class TicketSummary(Schema):
    key: str
    desk: DeskRef
    organisation: OrganisationRef
    title: str
    type: str
    priority: str
    status: str
    sub_status: str
    status_label: str
    category: str
    turn: str
    active: bool
    flags: list[str]
    fields: dict[str, Any]
    reporter: PersonRef
    assignee: PersonRef | None
    customer_assignee: PersonRef | None
    team: TeamRef | None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class TicketOut(TicketSummary):
    description: str
    description_html: str
    next_step: NextStepOut


class TicketPage(Schema):
    items: list[TicketSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


def person_ref(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": str(user), "kind": user.kind}


def next_step_out(step, tz: str, lang: str) -> dict:
    data = asdict(step)
    data["flags"] = sorted(step.flags)
    data["waits_for"] = sorted(step.waits_for)
    if step.timer is not None:
        # the notice as people read it: its {date} filled in, in the desk's time zone
        with translation.override(lang):
            data["timer"]["notice"] = present.timer_text(step.timer, tz)
    return data


def ticket_summary(ticket, fields: dict, lang: str, *, customer: bool) -> dict:
    wf = workflow_of(ticket)
    return {
        "key": ticket.key,
        "desk": {
            "id": ticket.desk_id,
            "key_prefix": ticket.desk.key_prefix,
            "name": ticket.desk.name,
        },
        "organisation": {"id": ticket.organisation_id, "name": ticket.organisation.name},
        "title": ticket.title,
        "type": ticket.type,
        "priority": ticket.priority,
        "status": ticket.status,
        "sub_status": ticket.sub_status,
        "status_label": wf.place_label(ticket.status, ticket.sub_status, lang),
        "category": ticket.category,
        "turn": ticket.turn,
        "active": ticket.active,
        "flags": sorted(wf.flags_seen(frozenset(ticket.flags), customer=customer)),
        "fields": fields,
        "reporter": person_ref(ticket.reporter),
        "assignee": person_ref(ticket.assignee),
        "customer_assignee": person_ref(ticket.customer_assignee),
        "team": {"slug": ticket.team.slug, "name": ticket.team.name} if ticket.team else None,
        "version": ticket.version,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
    }


def ticket_out(ticket, fields: dict, step, lang: str, *, customer: bool) -> dict:
    return {
        **ticket_summary(ticket, fields, lang, customer=customer),
        "description": ticket.description,
        "description_html": render(ticket.description),
        "next_step": next_step_out(step, ticket.desk.time_zone, lang),
    }
