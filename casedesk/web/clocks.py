"""The SLA clocks of a ticket in words, for the customer and for staff: read through
`casedesk.sla.selectors`, phrased here in the viewer's language and the desk's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import formats
from django.utils.translation import gettext as _

from casedesk.common import clock
from casedesk.sla.selectors import ClockView, ticket_clocks
from casedesk.tickets.models import Ticket
from casedesk.workflow import Workflow
from casedesk.workflow.calendar import Calendar

from . import present

target_label = present.sla_target_label


def state_label(state: str) -> str:
    return {
        "running": _("Running"),
        "paused": _("Paused"),
        "met": _("Met"),
        "stopped": _("Stopped"),
    }.get(state, state)


def duration(value: timedelta) -> str:
    minutes = int(abs(value).total_seconds() // 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}


def hours_text(cal: Calendar) -> str:
    """'Mon 08:00-17:00, Tue …' with the day names in the viewer's language."""
    if cal.always:
        return _("around the clock, every day")
    monday = date(2024, 1, 1)
    parts = []
    for weekday, spans in enumerate(cal.week):
        if spans:
            name = formats.date_format(monday + timedelta(days=weekday), "D")
            times = ", ".join(
                f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans
            )
            parts.append(f"{name} {times}")
    return "; ".join(parts)


def closed_days_text(cal: Calendar, tz: str, *, count: int = 4) -> str:
    today = clock.now().date()
    days = sorted(d for d, hours in cal.exceptions.items() if d >= today)[:count]
    return ", ".join(formats.date_format(d, "DATE_FORMAT") for d in days)


@dataclass(frozen=True)
class ClockLine:
    view: ClockView
    target: str
    state: str
    text: str  # one sentence for the reader


def _paused_in(v: ClockView, wf: Workflow, lang: str) -> str:
    status = v.row.paused_by
    return wf.text(wf.statuses[status].label, lang) if status in wf.statuses else status


def _customer_text(v: ClockView, wf: Workflow, tz: str, lang: str) -> str:
    row = v.row
    answering = row.target != "resolution"
    if v.state == "running" and row.due_at is not None:
        when = present.moment(row.due_at, tz)
        if answering:
            return _("We aim to answer by %(when)s.") % {"when": when}
        return _("We aim to resolve this by %(when)s.") % {"when": when}
    if v.state == "paused":
        return _("Our clock is paused since %(when)s: %(status)s.") % {
            "when": present.moment(row.paused_since, tz),
            "status": _paused_in(v, wf, lang),
        }
    if v.state == "met":
        if answering:
            return _("Answered later than we aim to.") if v.breached else _("Answered in time.")
        return _("Resolved later than we aim to.") if v.breached else _("Resolved in time.")
    return ""


def _staff_text(v: ClockView, wf: Workflow, tz: str, lang: str) -> str:
    row = v.row
    if v.state in ("running", "paused"):
        if v.remaining >= timedelta(0):
            text = _("%(used)s used of %(limit)s, %(left)s left.") % {
                "used": duration(v.used),
                "limit": duration(timedelta(seconds=row.limit_seconds)),
                "left": duration(v.remaining),
            }
        else:
            text = _("%(over)s over the target of %(limit)s.") % {
                "over": duration(v.remaining),
                "limit": duration(timedelta(seconds=row.limit_seconds)),
            }
        if v.state == "running" and row.due_at is not None:
            text += " " + _("Due %(when)s.") % {"when": present.moment(row.due_at, tz)}
        if v.state == "paused":
            text += " " + _("Paused in %(status)s since %(when)s.") % {
                "status": _paused_in(v, wf, lang),
                "when": present.moment(row.paused_since, tz),
            }
        return text
    if v.state == "met":
        return _("Met %(when)s, after %(used)s.") % {
            "when": present.moment(row.met_at, tz),
            "used": duration(v.used),
        }
    return ""


def clock_context(
    ticket: Ticket, wf: Workflow, *, customer: bool, lang: str, tz: str | None = None
) -> dict:
    """What the clock card shows, times in `tz` (the viewer's; the desk's by default);
    empty when the ticket has no clocks."""
    tz = tz or ticket.desk.time_zone
    found = ticket_clocks(ticket)
    views = found.views
    if not views:
        return {}
    current = [v for v in views if v.row.cycle == ticket.cycle or v.row.target == "first_response"]
    # one line per target: the latest clock of each
    latest: dict[str, ClockView] = {}
    for v in current:
        latest[v.row.target] = v
    lines = []
    for v in latest.values():
        text = _customer_text(v, wf, tz, lang) if customer else _staff_text(v, wf, tz, lang)
        if text:
            lines.append(ClockLine(v, target_label(v.row.target), state_label(v.state), text))
    cal = views[0].calendar
    outcome_only = customer and not found.customers_see_times
    breached = any(v.breached for v in views if v.row.cycle == ticket.cycle)
    return {
        "clock_lines": lines,
        "clock_outcome_only": outcome_only,
        "clock_breached": breached,
        "clock_hours": hours_text(cal),
        "clock_closed": closed_days_text(cal, tz),
        "clock_zone": cal.zone,
    }
