"""Which time zone a person reads times in: their own setting, else their browser's (a
cookie app.js keeps), else the desk's. One list never mixes zones without saying so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from casedesk.common.settings_checks import time_zone_names

from .present import zone

# set by app.js from Intl.DateTimeFormat().resolvedOptions().timeZone; a hint, not a secret
COOKIE = "casedesk_tz"


@dataclass(frozen=True)
class ViewerZone:
    name: str = ""  # "" when neither the person nor their browser named one
    source: str = ""  # setting | browser | ""

    def for_desk(self, desk_zone: str) -> str:
        return self.name or desk_zone or "UTC"


def viewer_zone(request: HttpRequest) -> ViewerZone:
    user = getattr(request, "user", None)
    own = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    if own and own in time_zone_names():
        return ViewerZone(own, "setting")
    browser = request.COOKIES.get(COOKIE, "")[:64]
    if browser and browser in time_zone_names():
        return ViewerZone(browser, "browser")
    return ViewerZone()


def hint(viewer: ViewerZone, desk_zones: set[str]) -> str:
    """The line that says which zone the times of a page are in."""
    if viewer.source == "setting":
        return _("Times are in your time zone, %(tz)s.") % {"tz": viewer.name}
    if viewer.source == "browser":
        return _("Times are in your browser's time zone, %(tz)s.") % {"tz": viewer.name}
    if len(desk_zones) == 1:
        return _("Times are in the desk's time zone, %(tz)s.") % {"tz": next(iter(desk_zones))}
    return _("Times are in each desk's time zone, as marked.")


def abbreviation(value: datetime | None, tz: str) -> str:
    """'CET', 'CEST', '+03' ...: the zone's short name at that moment."""
    if value is None:
        return ""
    return timezone.localtime(value, zone(tz)).tzname() or tz
