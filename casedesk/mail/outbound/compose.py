"""What a mail says and how it is addressed: subject with the ticket key, plain text and
HTML in the recipient's language, a link to the ticket, threading headers.

Everything a person wrote is escaped in HTML except comment bodies, which go through the
one Markdown sanitiser (casedesk.common.markdown). Header values are single lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from casedesk.common import markdown
from casedesk.tickets.models import Comment, Ticket
from casedesk.tickets.selectors import next_step_for, workflow_of
from casedesk.workflow import NextStep

from ..models import DeskMail
from . import texts

LANGUAGES = {code for code, _ in settings.LANGUAGES}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str


def one_line(value: str, limit: int = 250) -> str:
    """A header-safe single line: control characters (CR, LF...) become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def language_of(user) -> str:
    for lang in (
        user.language,
        user.organisation.language if user.is_customer and user.organisation_id else "",
    ):
        if lang and lang.split("-")[0] in LANGUAGES:
            return lang.split("-")[0]
    return settings.LANGUAGE_CODE


def name_of(user) -> str:
    return one_line(user.get_full_name() or user.username, 120) if user else ""


def sender_of(desk) -> tuple[str, str]:
    """(From, Reply-To) for mail of this desk: its own address when it has one."""
    return sender_from(desk, DeskMail.objects.filter(desk=desk).first())


def sender_from(desk, config: DeskMail | None) -> tuple[str, str]:
    """`sender_of` for a desk whose mail settings (or None) are read already."""
    if config is None:
        return settings.CASEDESK_MAIL_FROM, ""
    return formataddr((one_line(config.display_name or desk.name, 120), config.address)), (
        config.address
    )


def ticket_url(ticket: Ticket) -> str:
    return f"{settings.BASE_URL}/tickets/{ticket.key}/"


def preferences_url() -> str:
    return f"{settings.BASE_URL}/mail/preferences/"


def subject_of(ticket: Ticket, title: str | None = None) -> str:
    return one_line(f"[{ticket.key}] {title if title is not None else ticket.title}", 300)


def zone_of(user, desk) -> str:
    """The zone a mail's times are in: the recipient's own, else the desk's."""
    own = getattr(user, "time_zone", "") if user is not None else ""
    return own or desk.time_zone or "UTC"


def when(value: datetime, desk, lang: str, user=None) -> str:
    """A date and time in the recipient's zone, named ('3 Dec 2026, 14:00 CET')."""
    # a zone that does not exist raises: the mail is held and staff see why
    local = timezone.localtime(value, ZoneInfo(zone_of(user, desk)))
    with translation.override(lang):
        return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@dataclass(frozen=True)
class _Place:
    """What the desk's team address is told of where a ticket is: no moves, no timer."""

    label: str
    explanation: str = ""
    actions: tuple[()] = ()
    timer: None = None


def _reached(event, wf, ticket) -> tuple[str, str] | None:
    """The place a transition entry reached, when the ticket has moved on from it since
    (the mail is composed later, by the worker; it must name the status of its change)."""
    if event.kind != "transition":
        return None
    to = (event.data or {}).get("to") or {}
    status, sub = to.get("status", ""), to.get("sub_status", "") or ""
    if status not in wf.statuses or (sub and sub not in wf.sub_statuses):
        return None
    if (status, sub) == (ticket.status, ticket.sub_status or ""):
        return None
    return status, sub


def _notice(text: str, due: datetime | None, desk, lang: str, user=None) -> str:
    if not text:
        return ""
    return text.replace("{date}", when(due, desk, lang, user)) if due else text


def _fixed_texts(lang: str, shared: dict | None) -> tuple[str, dict[str, str]]:
    """The sentences every notification in `lang` says (call in that language); looked up
    once per batch (`shared`) rather than for each mail."""
    fixed = shared.get(lang) if shared is not None else None
    if fixed is None:
        fixed = (texts.reply_above(), texts.labels())
        if shared is not None:
            shared[lang] = fixed
    return fixed


def notification(
    *,
    kind,
    event,
    user,
    comment: Comment | None,
    lang: str,
    ticket: Ticket | None = None,
    shared: dict | None = None,
) -> Content:
    """`ticket`: the entry's ticket as checked for `user` (tickets_visible_to), if it was;
    `shared`: a dict kept for one batch of mails, for what they all say alike."""
    ticket = ticket or event.ticket
    desk = ticket.desk
    wf = workflow_of(ticket)
    staff = user is None or user.is_supplier_staff  # None: the desk's team address
    with translation.override(lang):
        reply_above, labels = _fixed_texts(lang, shared)
        step: NextStep | _Place
        reached = _reached(event, wf, ticket)
        moved_on = ""
        if reached is not None:
            # what this change reached, not where the ticket is now; what can be done and
            # what happens next belong to where it is now, so the mail only names that
            status, sub = reached
            step = _Place(
                label=wf.place_label(status, sub, lang),
                explanation=wf.text(wf.statuses[status].explain, lang),
            )
            moved_on = texts.moved_on(wf.place_label(ticket.status, ticket.sub_status, lang))
        elif user is None:
            step = _Place(label=wf.place_label(ticket.status, ticket.sub_status, lang))
        else:
            step = next_step_for(user=user, ticket=ticket, lang=lang)
        actor = name_of(event.actor) if event.actor_id else ""
        head = texts.headline(
            kind,
            key=ticket.key,
            actor=actor or labels["someone"],
            status=step.label,
            reporter=name_of(ticket.reporter),
            organisation=one_line(ticket.organisation.name, 120),
            hours=str(((event.data or {}).get("hours") or [None, ""])[-1] or ""),
            valid_until=str((event.data or {}).get("valid_until", "")),
        )
        notice = ""
        if kind == "reminder":
            timer = wf.timers.get((event.data or {}).get("timer", ""))
            due = datetime.fromisoformat(event.data["due_at"])
            notice = _notice(wf.text(timer.notice, lang) if timer else "", due, desk, lang, user)
        elif step.timer is not None and not staff:
            notice = _notice(step.timer.notice, step.timer.due_at, desk, lang, user)
        shown = comment if comment and (staff or not comment.internal) else None
        files = []
        if shown is not None:
            rows = shown.attachments.all()  # read with the comment when it was (comments_of)
            files = [a.name for a in rows if staff or not a.internal]
        context = {
            "reply_above": reply_above,
            "greeting": texts.greeting(name_of(user)) if user else "",
            "headline": head,
            "title": f"{ticket.key}: {one_line(ticket.title, 300)}",
            "comment_text": shown.body if shown else "",
            "comment_html": markdown.render_for_mail(shown.body) if shown else "",
            "internal": bool(shown and shown.internal),
            "files": files,
            "status": step.label,
            "explanation": step.explanation if not staff else "",
            "actions": [a.label for a in step.actions] if not staff else [],
            "notice": notice,
            "moved_on": moved_on,
            "url": ticket_url(ticket),
            "labels": labels,
            "footer": texts.footer(ticket.key, one_line(desk.name, 120), preferences_url()),
        }
        return Content(
            subject=subject_of(ticket),
            text=render_to_string("mail/notification.txt", context),
            html=render_to_string("mail/notification.html", context),
        )


def refusal(*, reason: str, desk, lang: str = "en") -> Content:
    """A polite 'not accepted' that repeats nothing of the refused mail (no subject, no
    body), so it cannot carry a stranger's text to a forged sender."""
    with translation.override(lang):
        context = {
            "greeting": "",
            "headline": texts.refusal_body(reason)
            % {"limit": settings.CASEDESK_MAIL_MAX_BYTES // 1024**2},
            "labels": texts.labels(),
            "footer": texts.automatic_note(),
        }
        return Content(
            subject=texts.refusal_subject(one_line(desk.name, 120)),
            text=render_to_string("mail/notification.txt", context),
            html=render_to_string("mail/notification.html", context),
        )


def adhoc(*, ticket: Ticket, body: str, lang: str = "en") -> Content:
    with translation.override(lang):
        context = {
            "body_text": body,
            "body_html": markdown.render_for_mail(body),
            "footer": texts.footer_adhoc(one_line(ticket.desk.name, 120)),
        }
        return Content(
            subject="",
            text=render_to_string("mail/adhoc.txt", context),
            html=render_to_string("mail/adhoc.html", context),
        )
