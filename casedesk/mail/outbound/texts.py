"""Every sentence a mail says, in one place, through the mail app's own catalogue
(casedesk/mail/locale). Call these inside `translation.override(language)`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# A line a reply is cut at (casedesk.mail.inbound.trim knows the ##- -## frame in any
# language).
REPLY_MARK = "##- {} -##"


def reply_above() -> str:
    return REPLY_MARK.format(_("Please write your reply above this line"))


def greeting(name: str) -> str:
    return _("Hello %(name)s,") % {"name": name}


# The headline of each kind of mail, translated when it is used (only the one needed:
# looking all of them up for every mail was a tenth of composing it).
HEADLINES = {
    "created": gettext_noop("We have received your request %(key)s. We will get back to you."),
    "created_for": gettext_noop("%(actor)s opened %(key)s for you."),
    "created_org": gettext_noop("%(reporter)s opened %(key)s for %(organisation)s."),
    "created_staff": gettext_noop("%(reporter)s opened %(key)s."),
    "comment": gettext_noop("%(actor)s wrote on %(key)s:"),
    "note": gettext_noop("%(actor)s added an internal note on %(key)s:"),
    "status": gettext_noop("%(key)s has a new status: %(status)s."),
    "your_turn": gettext_noop("%(key)s is waiting for you: %(status)s."),
    "reminder": gettext_noop("A reminder about %(key)s."),
    "assigned": gettext_noop("%(key)s was assigned to you."),
    "customer_assigned": gettext_noop(
        "You are now the contact for %(key)s on your organisation's side."
    ),
    "following": gettext_noop("You now follow %(key)s."),
    "approve_estimate": gettext_noop(
        "The work on %(key)s is estimated at %(hours)s hours and waits for your approval."
    ),
    "approve_sheet": gettext_noop("The service sheet of %(key)s waits for your approval."),
    "quote_waiting": gettext_noop(
        "A quote on %(key)s waits for your answer. It is valid until %(valid_until)s."
    ),
}


def headline(kind: str, **v: str) -> str:
    return _(HEADLINES[kind]) % v


def moved_on(status: str) -> str:
    return _("The case has moved on since this change; it is now: %(status)s.") % {"status": status}


def labels() -> dict[str, str]:
    return {
        "status": _("Status"),
        "actions": _("What you can do now"),
        "attachments": _("Attachments"),
        "open": _("Open the case"),
        "reply_hint": _("Reply to this mail to add a comment."),
        "internal": _("Internal note: never sent to customers."),
        "someone": _("Someone"),
    }


def footer(key: str, desk: str, url: str) -> str:
    return _(
        "You get this mail about %(key)s from %(desk)s. Choose which mails you get: %(url)s"
    ) % {
        "key": key,
        "desk": desk,
        "url": url,
    }


def footer_adhoc(desk: str) -> str:
    return _("Sent by %(desk)s.") % {"desk": desk}


def refusal_subject(desk: str) -> str:
    return _("Your mail to %(desk)s was not accepted") % {"desk": desk}


def refusal_body(reason: str) -> str:
    reasons = {
        "unknown": _(
            "We could not accept your mail, because this address takes requests only from "
            "people we know as customers. If you are one, please write from the address you "
            "are registered with, or contact us another way."
        ),
        "too_large": _(
            "We could not accept your mail, because it is larger than we can take "
            "(%(limit)s MB). Please send large files another way."
        ),
    }
    return reasons[reason]


def automatic_note() -> str:
    return _("This is an automatic message; replies to it are read by no one.")
