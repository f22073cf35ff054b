"""The hour estimate of a ticket and its grant, as rules (no Django).

A customer approver grants the estimate as it stands. Raising the estimate above what
was granted withdraws the grant and asks again; lowering it keeps the grant, which still
covers it. Logged time is measured against the estimate: staff are warned once at
`WARN_AT` percent, the customer is told once at `TELL_AT` percent; a raised estimate
counts afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

WARN_AT = 80
TELL_AT = 100
MAX_HOURS = Decimal("99999.99")
_HOURS = re.compile(r"[0-9]{1,5}([.,][0-9]{1,2})?")


def parse_hours(value: object) -> Decimal | None:
    """Hours as a decimal with at most two places, 0 < hours <= MAX_HOURS; None if not."""
    text = str(value).strip() if value is not None else ""
    if not _HOURS.fullmatch(text):
        return None
    try:
        hours = Decimal(text.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        return None
    if hours != hours.quantize(Decimal("0.01")):
        return None
    return hours.quantize(Decimal("0.01"))


def awaiting_grant(hours: Decimal | None, granted: Decimal | None) -> bool:
    """Whether the estimate waits for an approver: set, and more than was granted."""
    return hours is not None and (granted is None or hours > granted)


def withdraws(before: Decimal | None, after: Decimal, granted: Decimal | None) -> bool:
    """Whether setting the estimate from `before` to `after` withdraws a standing grant."""
    return granted is not None and after > granted and (before is None or after > before)


def percent_used(minutes: int, hours: Decimal | None) -> int:
    """Logged minutes as a whole percentage of the estimate (rounded down)."""
    if hours is None or hours <= 0:
        return 0
    return int(Decimal(minutes) * 100 / (hours * 60))


@dataclass(frozen=True)
class Crossing:
    warn: bool  # staff are warned now
    tell: bool  # the customer is told now


def crossing(minutes: int, hours: Decimal | None, *, warned: bool, told: bool) -> Crossing:
    """Which thresholds logged time has newly reached; each is said once per estimate."""
    used = percent_used(minutes, hours)
    return Crossing(warn=not warned and used >= WARN_AT, tell=not told and used >= TELL_AT)
