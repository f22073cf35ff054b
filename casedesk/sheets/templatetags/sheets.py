"""Filters for the service sheet: time as h:mm, names of kinds and states in the
reader's language."""

from __future__ import annotations

from django import template
from django.utils import formats, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from casedesk.sheets.selectors import hours as _hours

register = template.Library()


@register.filter
def hours(minutes) -> str:
    return _hours(int(minutes or 0))


@register.filter
def kind_label(kind) -> str:
    return kind_label_in(kind, (translation.get_language() or "en").split("-")[0])


def kind_label_in(kind, lang: str) -> str:
    return kind.label(lang)


@register.filter
def local_date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def state_text(state: str) -> str:
    return {
        "open": _("Open"),
        "submitted": _("Waiting for the customer's approval"),
        "returned": _("Returned by the customer"),
        "approved": _("Approved"),
        "invoiced": _("Invoiced"),
    }.get(state, state)


def approved_text(how: str) -> str:
    return {
        "customer": _("approved by the customer"),
        "staff": _("approval recorded by the supplier"),
        "timer": _("approved automatically when the approval period ended"),
        "closing": _("locked when the ticket was closed"),
    }.get(how, "")


@register.filter
def sheet_state(state: str) -> str:
    return state_text(state)


@register.filter
def approved_how(how: str) -> str:
    return approved_text(how)


_ENTRY_ROW = (
    '<tr id="entry-{pk}"{superseded}>'
    "\n    <td>{day}</td>"
    "\n    <td>{who}</td>"
    "\n    <td>{kind}{not_billable}</td>"
    "\n    <td>{description}{note}{correct}</td>"
    '\n    <td class="num">{worked}</td>'
    '\n    <td class="num">{billed}</td>'
    "\n  </tr>"
)


@register.simple_tag
def entry_rows(view, staff_form) -> SafeString:
    """The `<tr>` of each entry of a sheet's view (`sheets/_entries.html` places them):
    one format of the row's markup, every value escaped as `{{ }}` does. A row of the
    template was some 40 nodes and three filters."""
    if not view.rows:
        return format_html(
            '<tr><td colspan="6" class="muted">{}</td></tr>', _("No work has been logged yet.")
        )
    lang = (translation.get_language() or "en").split("-")[0]
    esc = conditional_escape
    not_billable = " · " + esc(_("not billable"))
    muted = ' <span class="muted">({})</span>'.format
    corrected = muted(esc(_("corrected below")))
    cancelled = muted(esc(_("not billable: the ticket was cancelled")))
    correction = muted(esc(_("correction")))
    correct_label = esc(_("Correct"))
    may_correct = bool(staff_form and view.writable)
    days: dict = {}
    parts = []
    for row in view.rows:
        e, counts = row.entry, row.counts
        day = days.get(e.day)
        if day is None:
            day = days[e.day] = esc(local_date(e.day))
        description = esc(e.description)
        worked = esc(hours(e.minutes))
        parts.append(
            _ENTRY_ROW.format(
                pk=e.pk,
                superseded="" if counts else ' class="muted superseded"',
                day=day,
                who=esc(e.worker.get_full_name() or e.worker.username),
                kind=esc(kind_label_in(e.kind, lang)),
                not_billable="" if e.billable else not_billable,
                description=description if counts else f"<del>{description}</del>{corrected}",
                note=""
                if not e.corrects_id
                else cancelled
                if e.reason == "cancelled"
                else correction,
                correct=(
                    f' <a href="?correct={e.pk}#log-form" class="small">{correct_label}</a>'
                    if may_correct and counts
                    else ""
                ),
                worked=worked if counts else f"<del>{worked}</del>",
                billed=esc(hours(row.billed)) if counts else "",
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)
