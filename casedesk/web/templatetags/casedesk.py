"""Template filters: sanitised Markdown, and dates in the desk's time zone."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from casedesk.common.errors import CasedeskError
from casedesk.web import present
from casedesk.web.messages import say_whole

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    return present.markdown_html(text)


@register.filter
def when(value, tz: str = "UTC") -> str:
    return present.moment(value, tz)


@register.filter
def day(value, tz: str = "UTC") -> str:
    return present.day(value, tz)


@register.filter
def iso(value) -> str:
    return value.isoformat() if value else ""


@register.filter
def field_value(values: dict, name: str) -> str:
    """What was typed into custom field `name` (posted as `field:<name>`)."""
    return (values or {}).get(f"field:{name}", "")


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key, "") if hasattr(mapping or {}, "get") else ""


@register.filter
def same(a, b) -> bool:
    return a == b


@register.filter
def said(error: CasedeskError) -> str:
    """An error's words in the active language, for pages of apps below the web layer."""
    return say_whole(error)


@register.simple_tag
def own_language_names() -> list[tuple[str, str]]:
    """Each language in its own name ("Dansk", "Čeština"), never translated into the page's
    language: a reader looks for the name they know (Django's tag would say "engelsk")."""
    return list(settings.LANGUAGES)


@register.filter
def quote_state(state: str) -> str:
    return {
        "sent": _("sent, waiting for an answer"),
        "accepted": _("accepted"),
        "declined": _("declined"),
        "expired": _("expired"),
        "withdrawn": _("replaced by a newer quote"),
    }.get(state, state)
