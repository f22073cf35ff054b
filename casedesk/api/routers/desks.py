"""Desks, their workflows and status guides (read only), in the caller's language."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from casedesk.common.replica import replica_read
from casedesk.tickets import selectors
from casedesk.workflow.guide import status_guide

from ..context import lang_of
from ..schemas import Id, QueryIn, Schema
from .tickets import errors

router = Router(tags=["desks"])
Lang = Literal["en", "da", "nl", "cs", "sv"]


class WorkflowRef(Schema):
    slug: str
    version: int
    checksum: str


class DeskOut(Schema):
    id: int
    name: str
    slug: str
    key_prefix: str
    time_zone: str
    workflow: WorkflowRef


class Labelled(Schema):
    key: str
    label: str


class TypeOut(Labelled):
    default: bool
    customer_may_create: bool


class PriorityOut(Labelled):
    default: bool


class FieldOut(Labelled):
    kind: str
    help: str
    customer_editable: bool
    pattern: str | None


class SubStatusOut(Labelled):
    explanation: str


class StatusOut(Labelled):
    explanation: str
    category: str
    turn: str
    active: bool
    initial: bool
    sub_statuses: list[SubStatusOut]


class WorkflowOut(Schema):
    slug: str
    version: int
    name: str
    language: str
    languages: list[str]
    types: list[TypeOut] = Field(description="in the workflow's order")
    priorities: list[PriorityOut] = Field(description="lowest first")
    teams: list[Labelled]
    fields: list[FieldOut]
    statuses: list[StatusOut]


class GuideAction(Schema):
    key: str
    label: str
    target: str
    needs: list[str]
    who: list[str]
    types: list[str]
    at: list[str]


class GuideRule(Schema):
    label: str
    target: str
    after: str
    since: str
    notice: str = Field(
        description="the workflow's words for customers; `{date}` stands for the day the "
        "timer acts on a ticket (the ticket's next step gives it filled in)"
    )
    event: str
    environment: str
    at: list[str]
    timer: str = Field("", description="the timer's key, for timers")


class GuideSubStatus(Schema):
    key: str
    label: str
    explanation: str
    turn: str
    active: bool


class GuideStatus(Schema):
    key: str
    label: str
    explanation: str
    category: str
    turn: str
    active: bool
    sub_statuses: list[GuideSubStatus]
    customer_actions: list[GuideAction]
    staff_actions: list[GuideAction]
    automatic: list[GuideRule]


class GuideOut(Schema):
    workflow: str
    name: str
    description: str
    language: str
    statuses: list[GuideStatus]


class LangQuery(QueryIn):
    lang: Lang | None = Field(None, description="default: your language")


def desk_out(desk) -> dict:
    return {
        "id": desk.pk,
        "name": desk.name,
        "slug": desk.slug,
        "key_prefix": desk.key_prefix,
        "time_zone": desk.time_zone,
        "workflow": {
            "slug": desk.workflow.slug,
            "version": desk.workflow.version,
            "checksum": desk.workflow.checksum,
        },
    }


def pick_lang(wf, wanted: str) -> str:
    if wanted in wf.languages:
        return wanted
    return "en" if "en" in wf.languages else wf.languages[0]


@router.get("/desks", response={200: list[DeskOut], **errors()}, summary="Desks")
def desks_list(request: HttpRequest):
    """The desks you work on (staff) or your organisation uses (customers)."""
    rows = selectors.desks_for_user(user=request.user).select_related("workflow")
    return [desk_out(d) for d in rows]


@router.get("/desks/{desk_id}", response={200: DeskOut, **errors()}, summary="A desk")
def desk_get(request: HttpRequest, desk_id: Id):
    return desk_out(selectors.desk_for_user(user=request.user, desk_id=desk_id))


@router.get(
    "/desks/{desk_id}/workflow", response={200: WorkflowOut, **errors()}, summary="Its workflow"
)
def desk_workflow(request: HttpRequest, desk_id: Id, query: Query[LangQuery]):
    """The workflow new tickets of this desk run on: types, priorities, teams, the fields
    you may see, and every status with its explanation."""
    desk = selectors.desk_for_user(user=request.user, desk_id=desk_id)
    wf = desk.workflow.workflow
    lang = pick_lang(wf, query.lang or lang_of(request))
    shown = selectors.field_names_for(user=request.user, wf=wf)
    return {
        "slug": wf.slug,
        "version": wf.version,
        "name": wf.text(wf.name, lang),
        "language": lang,
        "languages": list(wf.languages),
        "types": [
            {
                "key": k,
                "label": wf.text(t.label, lang),
                "default": k == wf.default_type,
                "customer_may_create": t.customer_may_create,
            }
            for k, t in wf.types.items()
        ],
        "priorities": [
            {"key": k, "label": wf.text(p.label, lang), "default": k == wf.default_priority}
            for k, p in wf.priorities.items()
        ],
        "teams": [{"key": k, "label": wf.text(t.label, lang)} for k, t in wf.teams.items()],
        "fields": [
            {
                "key": k,
                "label": wf.text(f.label, lang),
                "kind": f.kind,
                "help": wf.text(f.help, lang),
                "customer_editable": f.customer_editable,
                "pattern": f.pattern,
            }
            for k, f in wf.fields.items()
            if k in shown
        ],
        "statuses": [
            {
                "key": k,
                "label": wf.text(s.label, lang),
                "explanation": wf.text(s.explain, lang),
                "category": s.category,
                "turn": s.turn,
                "active": s.active,
                "initial": s.initial,
                "sub_statuses": [
                    {
                        "key": sub,
                        "label": wf.text(wf.sub_statuses[sub].label, lang),
                        "explanation": wf.text(wf.sub_statuses[sub].explain, lang),
                    }
                    for sub in s.sub_statuses
                ],
            }
            for k, s in wf.statuses.items()
        ],
    }


@router.get(
    "/desks/{desk_id}/status-guide",
    response={200: GuideOut, **errors()},
    summary="Its status guide",
)
def desk_status_guide(request: HttpRequest, desk_id: Id, query: Query[LangQuery]):
    """Every status: what it means, whose turn it is, what customers and staff can do
    there, and what happens by itself (timers and events), in one language."""

    def read() -> dict:
        desk = selectors.desk_for_user(user=request.user, desk_id=desk_id)
        wf = desk.workflow.workflow
        return asdict(status_guide(wf, pick_lang(wf, query.lang or lang_of(request))))

    return replica_read(read)
