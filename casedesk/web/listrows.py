"""The table rows of the ticket lists (the agent's queues, the portal's list) as HTML.

A row held some 25 template nodes, and the template engine spent a few microseconds on
each: at 50 rows a page that was the larger part of a list's processor time. Each row is
now one format of the markup the templates had, every value escaped as the templates
did; `agent/_queue.html` and `portal/_list.html` place the rows. The
words that repeat on every row (the column names a narrow screen shows beside each value)
are translated once per page.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .present import escape as _escaped

_AGENT_ROW = (
    '\n    <tr class="{inactive}">'
    '\n      <td><input type="checkbox" name="keys" value="{key}" aria-label="{select_label}">'
    '<input type="hidden" name="version:{key}" value="{version}"></td>'
    '\n      <td class="key nowrap">{key}</td>'
    '\n      <td class="title"><a href="{url}">{title}</a></td>'
    '\n      <td data-label="{status_label}">{status}{inactive_mark}</td>'
    '\n      <td data-label="{turn_label}"><span class="pill turn-{turn}">{turn_text}</span></td>'
    '\n      <td data-label="{org_label}">{organisation}</td>'
    '\n      <td data-label="{assignee_label}">{assignee}</td>'
    '\n      <td data-label="{updated_label}" class="nowrap">'
    '<time datetime="{updated_iso}">{updated}</time>{zone}</td>'
    "\n    </tr>\n  "
)
_PORTAL_ROW = (
    '\n    <tr class="{inactive}">'
    '\n      <td class="key nowrap">{key}</td>'
    '\n      <td class="title"><a href="{url}">{title}</a></td>'
    '\n      <td data-label="{status_label}">{status}{inactive_mark}</td>'
    '\n      <td data-label="{turn_label}"><span class="pill turn-{turn}">{turn_text}</span></td>'
    '\n      <td data-label="{reporter_label}">{reporter}</td>'
    '\n      <td data-label="{updated_label}" class="nowrap">'
    '<time datetime="{updated_iso}">{updated}</time>{zone}</td>'
    "\n    </tr>\n  "
)


# the row's own values each kind of row shows
_COMMON_VALUES = ("key", "url", "title", "status", "turn", "turn_text", "updated_iso", "updated")
_AGENT_VALUES = (*_COMMON_VALUES, "select_label", "version", "organisation", "assignee")
_PORTAL_VALUES = (*_COMMON_VALUES, "reporter")


def rows_html(rows: list[dict], *, customer: bool) -> SafeString:
    """The `<tr>` of each row of `lists.page_context`, for the viewer's side."""
    labels = {
        "status_label": gettext("Status"),
        "turn_label": gettext("Whose turn"),
        "updated_label": gettext("Updated"),
    }
    if customer:
        labels["reporter_label"] = gettext("Reported by")
        shown: tuple[str, ...] = _PORTAL_VALUES
        template = _PORTAL_ROW
    else:
        labels["org_label"] = gettext("Organisation")
        labels["assignee_label"] = gettext("Assignee")
        shown = _AGENT_VALUES
        template = _AGENT_ROW
    labels = {k: _escaped(v) for k, v in labels.items()}
    inactive_mark = format_html(' <span class="pill inactive-mark">{}</span>', gettext("Inactive"))
    parts = []
    for row in rows:
        values = {name: _escaped(row[name]) for name in shown}
        if not customer and not row["assignee"]:
            values["assignee"] = "—"
        values["inactive"] = "" if row["active"] else "inactive"
        values["inactive_mark"] = "" if row["active"] else inactive_mark
        values["zone"] = (
            format_html(' <abbr class="zone" title="{}">{}</abbr>', row["tz"], row["zone_label"])
            if row["zone_label"]
            else ""
        )
        parts.append(template.format(**values, **labels))
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)
