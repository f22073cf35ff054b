"""Filters for the service sheet: time as h:mm, names of kinds and states in the
reader's language."""

from __future__ import annotations

from django import template
from django.utils import formats, translation
from django.utils.translation import gettext as _

from casedesk.sheets.selectors import hours as _hours

register = template.Library()


@register.filter
def hours(minutes) -> str:
    return _hours(int(minutes or 0))


@register.filter
def kind_label(kind) -> str:
    return kind.label((translation.get_language() or "en").split("-")[0])


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
