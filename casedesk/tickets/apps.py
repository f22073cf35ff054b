import time

from django.apps import AppConfig

ORPHAN_SWEEP_EVERY = 3600.0  # seconds


class TicketsConfig(AppConfig):
    name = "casedesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from casedesk.jobs.sweeps import register_sweep

        from .attachments import attachment_orphans_remove

        last: list[float] = []

        def orphans_hourly() -> int:
            """Files a killed process wrote but never committed, swept once an hour."""
            if last and time.monotonic() - last[0] < ORPHAN_SWEEP_EVERY:
                return 0
            last[:] = [time.monotonic()]
            return attachment_orphans_remove()

        register_sweep("attachment_orphans", orphans_hourly)
