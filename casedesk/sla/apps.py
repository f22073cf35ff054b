from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "casedesk.sla"
    label = "sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from casedesk.jobs.sweeps import register_sweep
        from casedesk.tickets.services import observe_changes

        from .clocks import sla_follow
        from .firing import sla_fire_due

        observe_changes("sla", sla_follow)
        register_sweep("sla", sla_fire_due)
