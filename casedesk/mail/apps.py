from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "casedesk.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from casedesk.jobs.sweeps import register_sweep
        from casedesk.tickets import outbox

        from . import (
            checks,  # noqa: F401  (registers the system checks)
            gauges,  # noqa: F401  (held and failed mail in the metrics)
        )
        from .access import CONSUMER
        from .outbound.notify import KINDS, notify_events
        from .outbound.send import mail_send_due

        outbox.register(CONSUMER, KINDS, notify_events)
        register_sweep("mail", mail_send_due)
