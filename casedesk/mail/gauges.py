"""Mail's numbers in the Prometheus metrics (casedesk.jobs.gauges): held and failed mail."""

from __future__ import annotations

from casedesk.desks.models import Desk
from casedesk.jobs.gauges import Gauge, gauge_register

from .models import InboundMail, OutboundMail

CAP = 100_000


def _held() -> dict[tuple[str, ...], float]:
    # by desk, so the (desk, outcome) index answers
    rows = InboundMail.objects.filter(
        desk__in=Desk.objects.values("pk"), outcome=InboundMail.Outcome.HELD
    )
    return {(): rows[:CAP].count()}


def _failed() -> dict[tuple[str, ...], float]:
    rows = OutboundMail.objects.filter(status=OutboundMail.Status.FAILED)
    return {(): rows[:CAP].count()}


gauge_register(Gauge("mail_inbound_held", "Received mail held for staff review", (), _held))
gauge_register(
    Gauge("mail_outbound_failed", "Sent mail that failed for good (shown to staff)", (), _failed)
)
