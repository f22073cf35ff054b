"""Words and dates for people: whose turn it is, what happens next and when, and the
history of a ticket told in sentences, all in the viewer's language and the desk's time
zone. Nothing here decides anything; it phrases what the workflow and the services said."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from casedesk.common.markdown import render as render_markdown
from casedesk.workflow import Workflow
from casedesk.workflow.nextstep import Automatic

from .moments import Moments, day, moment, zone  # noqa: F401 (also read as present.*)


def markdown_html(text: str) -> SafeString:
    """Markdown someone wrote, as HTML to put in a page."""
    # The one place user text becomes HTML: nh3 has already allowed only safe tags.
    return mark_safe(render_markdown(text))  # noqa: S308


def turn_text(
    turn: str,
    *,
    customer: bool,
    mine: bool = True,
    waits_for: frozenset[str] = frozenset(),
    final: bool = True,
) -> str:
    """Whose turn it is, for a customer (`mine`: is it this customer's own turn?) or staff."""
    if customer and turn == "customer" and not mine:
        who = [role_text(r) for r in sorted(waits_for)] or [_("your organisation")]
        return _("Waiting for %(who)s") % {"who": ", ".join(who)}
    if customer and turn == "nobody" and not final:
        return _("Nothing for you to do now")
    if customer:
        return {
            "customer": _("Your turn"),
            "supplier": _("Our turn"),
            "third_party": _("Waiting for a third party"),
            "nobody": _("Nothing more to do"),
        }.get(turn, turn)
    return {
        "customer": _("Customer's turn"),
        "supplier": _("Our turn"),
        "third_party": _("Third party's turn"),
        "nobody": _("Nobody's turn"),
    }.get(turn, turn)


def timer_text(auto: Automatic, tz: str) -> str:
    """'If we hear nothing, this case closes on 3 December.' (the workflow's own words)."""
    when = day(auto.due_at, tz)
    if auto.notice:
        return auto.notice.replace("{date}", when)
    return _("%(action)s automatically on %(date)s (to: %(target)s).") % {
        "action": auto.action,
        "date": when,
        "target": auto.target,
    }


def held_text(auto: Automatic, tz: str, *, customer: bool) -> str:
    """What a timer held back by an unanswered customer reply waits for, and what happens
    once the desk has answered."""
    from casedesk.workflow.durations import format_duration

    values = {"action": auto.action, "target": auto.target}
    if auto.since == "last_activity" and auto.after is not None:
        values["after"] = duration_text(format_duration(auto.after))
        if customer:
            text = _(
                "“%(action)s” waits for our answer to your reply. Once we have answered, it "
                "happens by itself %(after)s after our answer if nothing else happens "
                "(to: %(target)s)."
            )
        else:
            text = _(
                "“%(action)s” waits for an answer to the customer's reply. Once it is "
                "answered, it happens by itself %(after)s after that answer if nothing else "
                "happens (to: %(target)s)."
            )
    else:
        values["date"] = day(auto.due_at, tz)
        if customer:
            text = _(
                "“%(action)s” waits for our answer to your reply. Once we have answered, it "
                "happens by itself on %(date)s, or at once if that day has passed "
                "(to: %(target)s)."
            )
        else:
            text = _(
                "“%(action)s” waits for an answer to the customer's reply. Once it is "
                "answered, it happens by itself on %(date)s, or at once if that day has "
                "passed (to: %(target)s)."
            )
    return text % values


EVENT_WORDS = {
    "customer_commented": lambda: _("when the customer replies"),
    "staff_commented": lambda: _("when support replies"),
    "assigned": lambda: _("when someone takes the ticket"),
    "release_deployed": lambda: _("when a version with the fix is installed"),
    "release_published": lambda: _("when the update with the fix is released"),
    "sla_warning": lambda: _("when a service level target is close"),
    "sla_breached": lambda: _("when a service level target is missed"),
}


def event_text(auto: Automatic) -> str:
    """'When the customer replies: Answer received (to: In progress).'"""
    trigger = EVENT_WORDS.get(auto.event or "", lambda: auto.event or "")()
    if auto.environment:
        trigger = _("%(event)s in %(environment)s") % {
            "event": trigger,
            "environment": auto.environment,
        }
    return _("%(trigger)s: %(action)s (to: %(target)s)") % {
        "trigger": trigger[:1].upper() + trigger[1:],
        "action": auto.action,
        "target": auto.target,
    }


def role_text(role: str) -> str:
    return {
        "member": _("customer members"),
        "approver": _("customer approvers"),
        "org_admin": _("customer organisation admins"),
        "reporter": _("the reporter"),
        "customer_assignee": _("the customer's contact"),
        "agent": _("agents"),
        "lead": _("leads"),
        "admin": _("admins"),
        "system": _("Casedesk (automatic)"),
        "customer": _("your organisation"),
    }.get(role, role)


def needs_text(need: str, wf: Workflow, lang: str) -> str:
    if need.startswith("field:"):
        name = need.split(":", 1)[1]
        return wf.text(wf.fields[name].label, lang) if name in wf.fields else name
    return {
        "comment": _("a comment"),
        "assignee": _("an assignee"),
        "customer_assignee": _("a contact on the customer's side"),
    }.get(need, need)


def since_text(since: str) -> str:
    return _("after entering the status") if since == "entered" else _("after the last activity")


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    text: str
    public: bool
    comment_id: int | None = None
    at_text: str = ""  # `at` as the page shows it


@dataclass(frozen=True)
class ThreadFile:
    url: str
    name: str
    size: str  # as filesizeformat says it


@dataclass(frozen=True)
class ThreadRow:
    """One comment of a ticket's conversation, phrased once in Python rather than by the
    template for each row."""

    pk: str  # as text: a number would be localised in the template at each row
    css: str
    author: object  # the author (shown by name) or the words for an automatic comment
    internal: bool
    at_iso: str
    at_text: str
    channel: str  # the channel's name when it was not the web, else ""
    body: str  # safe HTML
    files: list[ThreadFile]


def thread_rows(comments, files_of: dict, *, people: dict, moments: Moments) -> list[ThreadRow]:
    """The conversation's rows; `files_of`: each comment's files by comment id, `people`:
    the authors by id (the comments are read without them)."""
    automatic = _("Casedesk (automatic)")
    rows = []
    for c in comments:
        author = people.get(c.author_id) if c.author_id is not None else None
        rows.append(
            ThreadRow(
                pk=str(c.pk),
                css=("internal" if c.internal else "")
                + (" staff" if author is not None and author.is_supplier_staff else ""),
                author=author or automatic,
                internal=c.internal,
                at_iso=c.created_at.isoformat() if c.created_at else "",
                at_text=moments(c.created_at),
                channel=c.get_channel_display() if c.channel != "web" else "",
                body=markdown_html(c.body),
                files=[
                    ThreadFile(reverse("attachment", args=[f.pk]), f.name, filesizeformat(f.size))
                    for f in files_of.get(c.pk, ())
                ],
            )
        )
    return rows


_THREAD_ROW = (
    '\n  <li id="c{pk}" class="{css}">'
    '\n    <div class="meta">'
    "\n      <strong>{author}</strong>"
    "\n      {pill}"
    '\n      <time datetime="{at_iso}">{at_text}</time>'
    "\n      {channel}"
    "\n    </div>"
    '\n    <div class="body prose">{body}'
    "\n      {files}"
    "\n    </div>"
    "\n  </li>\n  "
)
_THREAD_FILE = '<li><a href="{}" download>{}</a> <span class="muted">{}</span></li>'


def thread_html(rows: list[ThreadRow]) -> SafeString:
    """The `<li>` of each row of the conversation, as `web/_thread.html` places them: one
    format of the markup per comment, every value escaped as `{{ }}` does."""
    pill = '<span class="pill">' + escape(_("Internal note")) + "</span>"
    parts = []
    for row in rows:
        files = ""
        if row.files:
            files = (
                '<ul class="files">'
                + "".join(
                    _THREAD_FILE.format(escape(f.url), escape(f.name), escape(f.size))
                    for f in row.files
                )
                + "</ul>"
            )
        parts.append(
            _THREAD_ROW.format(
                pk=escape(row.pk),
                css=escape(row.css),
                author=escape(row.author),
                pill=pill if row.internal else "",
                at_iso=escape(row.at_iso),
                at_text=escape(row.at_text),
                channel=f"<span>· {escape(row.channel)}</span>" if row.channel else "",
                body=escape(row.body),
                files=files,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _name(people: dict, pk) -> str:
    if pk is None:
        return pgettext("person", "nobody")
    person = people.get(pk)
    return str(person) if person else _("a former user")


def _place(wf: Workflow, place: dict, lang: str) -> str:
    status, sub = place.get("status", ""), place.get("sub_status", "")
    if status not in wf.statuses:
        return status
    if sub and sub not in wf.sub_statuses:
        sub = ""
    return wf.place_label(status, sub, lang)


def _label(mapping, key: str, wf: Workflow, lang: str) -> str:
    item = mapping.get(key)
    return wf.text(item.label, lang) if item is not None else (key or "—")


def escape(value) -> str:
    """A value as `{{ value }}` prints it: safe text as it is, anything else escaped."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return html.escape(value)
    return str(conditional_escape(value))


def history_lines(
    events,
    *,
    people: dict,
    wf: Workflow,
    lang: str,
    team_names: dict,
    tz: str = "UTC",
    moments: Moments | None = None,
) -> list[Line]:
    """Each history entry as a sentence, with its time as the page shows it."""
    moments = moments or Moments(tz)
    lines = []
    for e in events:
        d = e.data or {}
        text = _describe(e.kind, d, people=people, wf=wf, lang=lang, team_names=team_names, tz=tz)
        who = _("Casedesk (automatic)") if e.actor_id is None else _name(people, e.actor_id)
        lines.append(Line(e.at, who, text, e.public, d.get("comment"), moments(e.at)))
    return lines


_HISTORY_ROW = (
    '\n    <li class="{internal}">'
    '\n      <time datetime="{iso}">{at}</time> · <span class="who">{who}</span><br>'
    "\n      {text}{pill}"
    "\n    </li>\n    "
)


def history_html(lines: list[Line]) -> SafeString:
    """The `<li>` of each history line, as `web/_history.html` places them: one format of
    the markup per line, every value escaped as `{{ }}` does (a template loop cost some
    20 microseconds a line)."""
    pill = ' <span class="pill">' + escape(_("not shown to the customer")) + "</span>"
    parts = [
        _HISTORY_ROW.format(
            internal="" if line.public else "internal",
            iso=escape(line.at.isoformat() if line.at else ""),
            at=escape(line.at_text),
            who=escape(line.who),
            text=escape(line.text),
            pill="" if line.public else pill,
        )
        for line in lines
    ]
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _describe(kind: str, d: dict, *, people, wf, lang, team_names, tz="UTC") -> str:
    if kind == "created":
        return _("opened the ticket")
    if kind == "comment":
        return _("wrote a comment")
    if kind == "note":
        return _("wrote an internal note")
    if kind == "transition":
        t = wf.transitions.get(d.get("transition", ""))
        label = wf.text(t.label, lang) if t else d.get("transition", "")
        return _("%(action)s: %(before)s → %(after)s") % {
            "action": label,
            "before": _place(wf, d.get("from", {}), lang),
            "after": _place(wf, d.get("to", {}), lang),
        }
    if kind == "assigned":
        new = (d.get("assignee") or [None, None])[1]
        if new is None:
            return _("removed the assignee")
        return _("assigned the ticket to %(name)s") % {"name": _name(people, new)}
    if kind == "customer_assigned":
        new = (d.get("customer_assignee") or [None, None])[1]
        if new is None:
            return _("removed the contact on the customer's side")
        return _("made %(name)s the contact on the customer's side") % {"name": _name(people, new)}
    if kind == "routed":
        new = (d.get("team") or ["", ""])[1]
        if not new:
            return _("took the ticket away from its team")
        return _("routed the ticket to %(team)s") % {"team": team_names.get(new, new)}
    if kind == "edited":
        parts = []
        if "title" in d:
            parts.append(_("title to “%(value)s”") % {"value": d["title"][1]})
        if "priority" in d:
            value = _label(wf.priorities, d["priority"][1], wf, lang)
            parts.append(_("priority to %(value)s") % {"value": value})
        if "type" in d:
            parts.append(
                _("type to %(value)s") % {"value": _label(wf.types, d["type"][1], wf, lang)}
            )
        for name, (_old, new) in (d.get("fields") or {}).items():
            label = _label(wf.fields, name, wf, lang)
            parts.append(_("%(field)s to “%(value)s”") % {"field": label, "value": new or "—"})
        return _("changed %(changes)s") % {"changes": ", ".join(parts)}
    if kind == "attachment":
        return _("attached %(name)s") % {"name": d.get("name", "")}
    if kind == "linked":
        return _("linked this ticket to %(other)s") % {"other": d.get("other", "")}
    if kind == "duplicate_of":
        if d.get("original"):
            return _("marked this ticket as a duplicate of %(other)s") % {"other": d["original"]}
        return _("marked this ticket as a duplicate")
    if kind == "duplicate_added":
        return _("marked %(other)s as a duplicate of this ticket") % {"other": d.get("duplicate")}
    if kind == "participant_added":
        return _("added %(name)s as a follower") % {"name": _name(people, d.get("person"))}
    if kind == "participant_removed":
        return _("removed %(name)s as a follower") % {"name": _name(people, d.get("person"))}
    if kind == "timer_warning":
        t = wf.transitions.get(d.get("transition", ""))
        try:
            due = datetime.fromisoformat(d.get("due_at", ""))
        except (TypeError, ValueError):
            due = None
        return _("gave notice: “%(action)s” follows on %(date)s unless someone acts first") % {
            "action": wf.text(t.label, lang) if t else d.get("transition", ""),
            "date": day(due, tz),
        }
    if kind == "mail_sent":
        return _("sent a mail to %(to)s: “%(subject)s”") % {
            "to": ", ".join(d.get("to") or []),
            "subject": d.get("subject", ""),
        }
    if kind == "time_logged":
        return _("logged %(hours)s h of work on the service sheet") % {
            "hours": _hours(d.get("minutes"))
        }
    if kind == "time_corrected":
        before = (d.get("before") or {}).get("minutes")
        return _("corrected an entry of the service sheet from %(before)s h to %(after)s h") % {
            "before": _hours(before),
            "after": _hours(d.get("minutes")),
        }
    if kind == "estimate_set":
        before, after = d.get("hours") or [None, None]
        if d.get("withdrawn"):
            return _(
                "raised the hour estimate to %(hours)s h; the earlier approval no longer "
                "covers it, so it needs approval again"
            ) % {"hours": after}
        if before is None:
            return _("estimated the work at %(hours)s h") % {"hours": after}
        return _("changed the hour estimate from %(before)s h to %(after)s h") % {
            "before": before,
            "after": after,
        }
    if kind == "estimate_granted":
        return _("approved the hour estimate of %(hours)s h") % {"hours": d.get("hours")}
    if kind == "estimate_warning":
        return _("%(percent)s%% of the hour estimate (%(hours)s h) is used") % {
            "percent": d.get("percent"),
            "hours": d.get("hours"),
        }
    if kind == "estimate_reached":
        return _("the logged work has reached the hour estimate of %(hours)s h") % {
            "hours": d.get("hours")
        }
    if kind == "sheet_submitted":
        return _("submitted the service sheet for approval")
    if kind == "sheet_approved":
        return _("approved the service sheet")
    if kind == "sheet_returned":
        return _("returned the service sheet")
    if kind == "sheet_invoiced":
        return _("invoiced the work on the service sheet")
    if kind == "flagged":
        flag = str(d.get("flag", ""))
        return _("flagged the ticket “%(flag)s”") % {"flag": wf.flag_label(flag, lang)}
    if kind in ("sla_warning", "sla_breached"):
        target = sla_target_label((d.get("sla") or {}).get("target", ""))
        if kind == "sla_warning":
            return _("%(target)s: the service level target is close") % {"target": target}
        return _("%(target)s: the service level target was missed") % {"target": target}
    return _("changed the ticket")


def _hours(minutes) -> str:
    minutes = minutes if isinstance(minutes, int) else 0
    return f"{minutes // 60}:{minutes % 60:02d}"


def sla_target_label(target: str) -> str:
    return {
        "first_response": _("First response"),
        "next_response": _("Next response"),
        "resolution": _("Resolution"),
    }.get(target, target)


def people_in(events) -> set[int]:
    """The ids of everyone a list of history entries names."""
    ids: set[int] = set()
    for e in events:
        if e.actor_id:
            ids.add(e.actor_id)
        d = e.data or {}
        for key in ("assignee", "customer_assignee"):
            if isinstance(d.get(key), list):
                ids.update(x for x in d[key] if isinstance(x, int))
        if isinstance(d.get("person"), int):
            ids.add(d["person"])
    return ids


def duration_text(compact: str) -> str:
    """'1d 12h' as '1 day 12 hours', in the viewer's language."""
    from django.utils.translation import ngettext

    words = []
    for part in compact.split():
        amount, unit = int(part[:-1]), part[-1]
        if unit == "d":
            words.append(ngettext("%(n)d day", "%(n)d days", amount) % {"n": amount})
        elif unit == "h":
            words.append(ngettext("%(n)d hour", "%(n)d hours", amount) % {"n": amount})
        else:
            words.append(ngettext("%(n)d minute", "%(n)d minutes", amount) % {"n": amount})
    return " ".join(words)
