"""The desk's SLA configuration as one immutable snapshot per change (`SlaRevision`), and
what the engine reads from it: a ticket's plan, its limits and its calendar."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache

from casedesk.common import clock
from casedesk.common.rows import Prepared
from casedesk.desks.models import Desk
from casedesk.workflow.calendar import Calendar, always_open, calendar_from_data, calendar_to_data
from casedesk.workflow.sla import Plan

from .models import BusinessCalendar, OrganisationPlan, SlaPlan, SlaRevision


def _snapshot(desk: Desk) -> dict:
    from .services import calendar_of_rows

    cal = BusinessCalendar.objects.filter(desk=desk).first()
    plans = {}
    for plan in SlaPlan.objects.filter(desk=desk).prefetch_related("targets"):
        limits: dict[str, dict[str, int]] = {}
        for t in plan.targets.all():
            limits.setdefault(t.priority, {})[t.target] = t.minutes * 60 * 1_000_000
        plans[str(plan.pk)] = {
            "always": plan.around_the_clock,
            "warn": plan.warn_percent,
            "limits": limits,
        }
    return {
        "calendar": calendar_to_data(calendar_of_rows(cal)) if cal is not None else {},
        "plans": plans,
        "organisations": {
            str(o.organisation_id): o.plan_id for o in OrganisationPlan.objects.filter(desk=desk)
        },
        "default_plan": SlaPlan.objects.filter(desk=desk, desk_default=True)
        .values_list("pk", flat=True)
        .first(),
    }


# read by every change of a ticket (its clocks follow the desk's latest configuration)
_latest = Prepared(
    lambda desk_id: SlaRevision.objects.filter(desk_id=desk_id).order_by("-at", "-id")[:1]
)


def revision_latest(desk_id: int) -> SlaRevision | None:
    return _latest.one(desk_id)


def revision_write(desk: Desk, *, note: str = "") -> SlaRevision | None:
    """Store the desk's configuration as it now is, if it changed, and re-plan the running
    clocks of its tickets from now on. Call inside the transaction of the change."""
    from .clocks import desk_replan

    snap = _snapshot(desk)
    last = revision_latest(desk.pk)
    if last is not None and all(getattr(last, k) == v for k, v in snap.items()):
        return None
    revision = SlaRevision.objects.create(desk=desk, at=clock.now(), note=note[:200], **snap)
    desk_replan(desk, revision)
    return revision


def plan_of(revision: SlaRevision, organisation_id: int) -> int | None:
    """The plan an organisation's tickets are on: its own, else the desk's default."""
    plan = revision.organisations.get(str(organisation_id))
    return plan if plan is not None else revision.default_plan


def limits_of(revision: SlaRevision, plan_id: int | None) -> Plan:
    plan = revision.plans.get(str(plan_id)) if plan_id is not None else None
    if not plan:
        return {}
    return {
        priority: {target: timedelta(microseconds=us) for target, us in limits.items()}
        for priority, limits in plan["limits"].items()
    }


def warn_ratio(revision: SlaRevision, plan_id: int | None) -> float:
    plan = revision.plans.get(str(plan_id)) if plan_id is not None else None
    return (plan["warn"] if plan else 80) / 100


@lru_cache(maxsize=256)
def _calendar(text: str, plan_always: bool) -> Calendar:
    data = json.loads(text)
    if plan_always:
        return always_open(str(data.get("zone") or "UTC"))
    if not data:
        return always_open("UTC")
    return calendar_from_data(data)


def calendar_of(revision: SlaRevision, plan_id: int | None) -> Calendar:
    """The calendar a plan's clocks run on in this revision (revisions never change)."""
    plan = revision.plans.get(str(plan_id)) if plan_id is not None else None
    return _calendar(json.dumps(revision.calendar, sort_keys=True), bool(plan and plan["always"]))
