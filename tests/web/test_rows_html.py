"""Rows built in Python (the sheet's entries by `entry_rows`, the ticket page's history
and conversation by `history_html` and `thread_html`) are the markup the template loops
they replaced gave, for every kind of row, hostile text included."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

from casedesk.web.present import Line, ThreadFile, ThreadRow, history_html, thread_html

# the loop `sheets/_entries.html` had, kept here as the reference
OLD_ENTRIES = (
    '{% load i18n sheets %}{% translate "Correct" as correct_label %}'
    "{% for row in view.rows %}{% with e=row.entry %}"
    '<tr id="entry-{{ e.pk }}"{% if not row.counts %} class="muted superseded"{% endif %}>'
    "\n    <td>{{ e.day|local_date }}</td>"
    "\n    <td>{{ e.worker.get_full_name|default:e.worker.username }}</td>"
    '\n    <td>{{ e.kind|kind_label }}{% if not e.billable %} · {% translate "not billable" %}'
    "{% endif %}</td>"
    "\n    <td>{% if not row.counts %}<del>{{ e.description }}</del> "
    '<span class="muted">({% translate "corrected below" %})</span>'
    "{% else %}{{ e.description }}{% endif %}"
    '{% if e.corrects_id %} <span class="muted">({% if e.reason == "cancelled" %}'
    '{% translate "not billable: the ticket was cancelled" %}{% else %}'
    '{% translate "correction" %}{% endif %})</span>{% endif %}'
    '{% if staff_form and view.writable and row.counts %} <a href="?correct={{ e.pk }}'
    '#log-form" class="small">{{ correct_label }}</a>{% endif %}</td>'
    '\n    <td class="num">{% if row.counts %}{{ e.minutes|hours }}{% else %}'
    "<del>{{ e.minutes|hours }}</del>{% endif %}</td>"
    '\n    <td class="num">{% if row.counts %}{{ row.billed|hours }}{% endif %}</td>'
    "\n  </tr>{% endwith %}{% empty %}"
    '<tr><td colspan="6" class="muted">{% translate "No work has been logged yet." %}</td>'
    "</tr>{% endfor %}"
)
NEW_ENTRIES = "{% load sheets %}{% entry_rows view staff_form %}"


class Kind:
    def __init__(self, labels):
        self.labels = labels

    def label(self, lang):
        return self.labels.get(lang, self.labels["en"])


class Worker:
    def __init__(self, full, username):
        self.full, self.username = full, username

    def get_full_name(self):
        return self.full


def _entry(pk, **kw):
    values = {
        "pk": pk,
        "day": datetime.date(2026, 3, pk % 28 + 1),
        "worker": Worker("Jana <Nová>", "jana"),
        "kind": Kind({"en": "Consulting & advice", "cs": "Konzultace"}),
        "billable": True,
        "description": 'Fixed the "export" <b>bug</b> & more',
        "corrects_id": None,
        "reason": "",
        "minutes": 95,
    }
    values.update(kw)
    return SimpleNamespace(**values)


ROWS = [
    SimpleNamespace(entry=_entry(1), counts=True, billed=105),
    SimpleNamespace(
        entry=_entry(2, billable=False, worker=Worker("", "o'brien")), counts=True, billed=0
    ),
    SimpleNamespace(entry=_entry(3), counts=False, billed=0),
    SimpleNamespace(entry=_entry(4, corrects_id=3, minutes=-30), counts=True, billed=-30),
    SimpleNamespace(entry=_entry(5, corrects_id=1, reason="cancelled"), counts=True, billed=0),
    SimpleNamespace(entry=_entry(12345, minutes=0), counts=True, billed=0),
]


@pytest.mark.parametrize("lang", ["en", "cs", "da", "nl", "sv"])
@pytest.mark.parametrize("staff_form", [None, object()])
@pytest.mark.parametrize("writable", [True, False])
@pytest.mark.parametrize("rows", [ROWS, []])
def test_entry_rows_are_the_old_loop(lang, staff_form, writable, rows):
    view = SimpleNamespace(rows=rows, writable=writable)
    context = {"view": view, "staff_form": staff_form}
    with translation.override(lang):
        old = Template(OLD_ENTRIES).render(Context(context))
        new = Template(NEW_ENTRIES).render(Context(context))
    assert new == old
    if rows:
        assert "&lt;b&gt;bug&lt;/b&gt;" in new and "<b>" not in new


OLD_HISTORY = (
    '{% load i18n casedesk %}{% translate "not shown to the customer" as hidden_label %}'
    "{% for line in history %}"
    '\n    <li class="{% if not line.public %}internal{% endif %}">'
    '\n      <time datetime="{{ line.at|iso }}">{{ line.at_text }}</time> · '
    '<span class="who">{{ line.who }}</span><br>'
    "\n      {{ line.text }}{% if not line.public %} "
    '<span class="pill">{{ hidden_label }}</span>{% endif %}'
    "\n    </li>\n    {% endfor %}"
)


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_history_rows_are_the_old_loop(lang):
    at = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    lines = [
        Line(at, "Jana <Nová>", 'wrote "a" <comment> & more', True, None, "1 Mar, 09:30"),
        Line(at, "o'brien", "wrote an internal note", False, 7, "1 Mar, 09:30"),
        Line(None, "Casedesk (automatic)", "closed", True),
    ]
    with translation.override(lang):
        old = Template(OLD_HISTORY).render(Context({"history": lines}))
        new = str(history_html(lines))
    assert new == old
    assert "&lt;comment&gt;" in new


OLD_THREAD = (
    '{% load i18n %}{% translate "Internal note" as internal_label %}'
    "{% for row in thread %}"
    '\n  <li id="c{{ row.pk }}" class="{{ row.css }}">'
    '\n    <div class="meta">'
    "\n      <strong>{{ row.author }}</strong>"
    '\n      {% if row.internal %}<span class="pill">{{ internal_label }}</span>{% endif %}'
    '\n      <time datetime="{{ row.at_iso }}">{{ row.at_text }}</time>'
    "\n      {% if row.channel %}<span>· {{ row.channel }}</span>{% endif %}"
    "\n    </div>"
    '\n    <div class="body prose">{{ row.body }}'
    '\n      {% if row.files %}<ul class="files">{% for f in row.files %}<li><a href="{{ f.url }}"'
    ' download>{{ f.name }}</a> <span class="muted">{{ f.size }}</span></li>{% endfor %}</ul>'
    "{% endif %}"
    "\n    </div>"
    "\n  </li>\n  {% endfor %}"
)


@pytest.mark.parametrize("lang", ["en", "da"])
def test_thread_rows_are_the_old_loop(lang):
    files = [
        ThreadFile("/files/1/", 'log "<1>".txt', "1.2\xa0KB"),
        ThreadFile("/files/2/?a=1&b=2", "b.png", "3\xa0bytes"),
    ]
    rows = [
        ThreadRow(
            "11",
            "",
            Worker("<x>", "x").full,
            False,
            "2026-03-01T09:30:00+00:00",
            "1 Mar",
            "",
            mark_safe("<p>safe <em>body</em></p>"),
            [],
        ),
        ThreadRow(
            "12",
            "internal staff",
            "o'brien & co",
            True,
            "",
            "",
            "Email",
            mark_safe("<p>note</p>"),
            files,
        ),
        ThreadRow(
            "13",
            " staff",
            "Casedesk (automatic)",
            False,
            "x",
            "y",
            "API <v1>",
            "<script>not safe</script>",
            files[:1],
        ),
    ]
    with translation.override(lang):
        old = Template(OLD_THREAD).render(Context({"thread": rows}))
        new = str(thread_html(rows))
    assert new == old
    assert "<em>body</em>" in new and "<script>" not in new
