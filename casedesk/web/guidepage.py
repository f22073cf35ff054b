"""The printable status guide of a desk, phrased from `casedesk.workflow.guide`."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from casedesk.desks.models import Desk
from casedesk.web import present
from casedesk.workflow.guide import status_guide
from casedesk.workflow.spec import CUSTOMER_SIDE

LANGUAGES = [code for code, _ in settings.LANGUAGES]


def guide_context(desk: Desk, lang: str) -> dict:
    lang = lang if lang in LANGUAGES else "en"
    wf = desk.workflow.workflow
    guide = status_guide(wf, lang)
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
                    "rules": [_rule(r) for r in s.automatic],
                }
            )
        return {
            "desk": desk,
            "guide": guide,
            "statuses": statuses,
            "guide_lang": lang,
            "languages": [(c, n) for c, n in settings.LANGUAGES],
        }


def _phrase(action, wf, lang, customer_side: bool = False) -> dict:
    who = [r for r in action.who if r in CUSTOMER_SIDE] if customer_side else action.who
    return {
        "action": action,
        "who": [present.role_text(r) for r in who],
        "needs": [present.needs_text(n, wf, lang) for n in action.needs],
    }


def _rule(rule) -> dict:
    from django.utils.translation import gettext as _

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
    return {"rule": rule, "when": when, "notice": rule.notice.replace("{date}", "…")}
