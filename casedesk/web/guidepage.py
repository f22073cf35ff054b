"""The printable status guide of a desk, phrased from `casedesk.workflow.guide`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from casedesk.common import clock
from casedesk.desks.models import Desk
from casedesk.sla.models import TARGETS, BusinessCalendar, OrganisationPlan, SlaPlan
from casedesk.sla.services import calendar_of_rows
from casedesk.web import present
from casedesk.web.clocks import closed_days_text, duration, hours_text, state_label, target_label
from casedesk.workflow.guide import status_guide
from casedesk.workflow.spec import CUSTOMER_SIDE

LANGUAGES = [code for code, _ in settings.LANGUAGES]


def guide_context(
    desk: Desk,
    lang: str,
    *,
    organisation_id: int | None = None,
    tz: str = "",
    now: datetime | None = None,
) -> dict:
    """The guide in one of the workflow's languages (the first when `lang` is not one);
    with `organisation_id` (a customer's) only that organisation's plan. Example dates
    count from `now`, in the zone `tz` (else the desk's)."""
    wf = desk.workflow.workflow
    spoken = [code for code in wf.languages if code in LANGUAGES] or ["en"]
    lang = lang if lang in spoken else spoken[0]
    guide = status_guide(wf, lang)
    tz = tz or desk.time_zone
    start = (now or clock.now()).replace(minute=0, second=0, microsecond=0)
    with translation.override(lang):
        statuses = []
        for s in guide.statuses:
            statuses.append(
                {
                    "status": s,
                    "turn": present.turn_text(s.turn, customer=True),
                    "subs": [
                        (sub, present.turn_text(sub.turn, customer=True)) for sub in s.sub_statuses
                    ],
                    "customer_actions": [
                        _phrase(a, wf, lang, customer_side=True) for a in s.customer_actions
                    ],
                    "staff_actions": [_phrase(a, wf, lang) for a in s.staff_actions],
                    "rules": [_rule(r, wf, start, tz) for r in s.automatic],
                    "clocks": _clock_modes(wf, s.key),
                }
            )
        levels = _levels(desk, wf, lang, organisation_id)
        return {
            "desk": desk,
            "guide": guide,
            "statuses": statuses,
            "guide_lang": lang,
            "levels": levels,
            "languages": [(c, n) for c, n in settings.LANGUAGES if c in spoken],
            "example_start": present.moment(start, tz),
            "zone": tz,
        }


def _phrase(action, wf, lang, customer_side: bool = False) -> dict:
    who = [r for r in action.who if r in CUSTOMER_SIDE] if customer_side else action.who
    return {
        "action": action,
        "who": [present.role_text(r) for r in who],
        "needs": [present.needs_text(n, wf, lang) for n in action.needs],
    }


def _rule(rule, wf, start: datetime, tz: str) -> dict:
    """What happens by itself and when; a timer with a real example date: the day it
    would act on a ticket that reached the status at `start` and heard nothing more."""
    example = ""
    notice = rule.notice
    if rule.timer:
        due = start + wf.timers[rule.timer].after
        notice = notice.replace("{date}", present.day(due, tz))
        example = _(
            "For example: on %(due)s for a ticket that got here on %(start)s, if nothing "
            "else happens first."
        ) % {"start": present.moment(start, tz), "due": present.moment(due, tz)}
    if rule.event:
        when = present.EVENT_WORDS.get(rule.event, lambda: rule.event)()
        if rule.environment:
            when = _("%(event)s in %(environment)s") % {
                "event": when,
                "environment": rule.environment,
            }
    else:
        when = _("%(delay)s %(since)s") % {
            "delay": present.duration_text(rule.after),
            "since": present.since_text(rule.since),
        }
    return {"rule": rule, "when": when, "notice": notice, "example": example}


def _clock_modes(wf, status: str) -> str:
    modes = wf.clock_modes(status, "")
    states = {"run": "running", "pause": "paused", "stop": "stopped", "met": "met"}
    if len(set(modes.values())) == 1:
        only = next(iter(modes.values()))
        return {
            "run": _("Our service level clocks run here."),
            "pause": _("Our service level clocks are paused here."),
        }.get(only, _("Our service level clocks stop here."))
    parts = [f"{target_label(t)}: {state_label(states[m]).lower()}" for t, m in modes.items()]
    return _("Service level clocks here: %(list)s.") % {"list": ", ".join(parts)}


def _levels(desk: Desk, wf, lang: str, organisation_id: int | None) -> dict:
    """The desk's hours and the targets of its plans (a customer's own plan only)."""
    cal = BusinessCalendar.objects.filter(desk=desk).prefetch_related("days").first()
    if cal is None:
        return {}
    plans = list(SlaPlan.objects.filter(desk=desk).prefetch_related("targets"))
    if organisation_id is not None:
        own = OrganisationPlan.objects.filter(desk=desk, organisation_id=organisation_id).first()
        plans = [p for p in plans if (p.pk == own.plan_id if own else p.desk_default)]
    engine_cal = calendar_of_rows(cal)
    shown = []
    for plan in plans:
        limits = {(t.priority, t.target): t.minutes for t in plan.targets.all()}
        rows = [
            (
                wf.text(p.label, lang),
                [
                    duration(timedelta(minutes=limits[(key, t)])) if (key, t) in limits else "-"
                    for t, _label in TARGETS
                ],
            )
            for key, p in reversed(list(wf.priorities.items()))
        ]
        hours = (
            _("around the clock, every day") if plan.around_the_clock else hours_text(engine_cal)
        )
        shown.append({"name": plan.name, "rows": rows, "hours": hours})
    closed = closed_days_text(engine_cal, cal.zone, count=8)
    return {
        "heading": _("Service levels"),
        "intro": _("How long we aim to take. Time counts only while our clock runs."),
        "zone": cal.zone,
        "closed": _("Closed on %(days)s.") % {"days": closed} if closed else "",
        "targets": [target_label(t) for t, _label in TARGETS],
        "plans": shown,
        "customers_see_times": cal.customers_see_times,
    }
