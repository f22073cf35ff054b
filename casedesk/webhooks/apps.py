from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "casedesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from casedesk.jobs.sweeps import register_sweep
        from casedesk.releases.services import observe_deployments
        from casedesk.tickets import outbox

        from .events import KINDS, deliveries_prepare, deployment_deliveries_prepare
        from .sending import deliveries_queue_due

        outbox.register("webhooks", KINDS, deliveries_prepare)
        observe_deployments("webhooks", deployment_deliveries_prepare)
        register_sweep("webhooks", deliveries_queue_due)
