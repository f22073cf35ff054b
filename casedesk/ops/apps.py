from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "casedesk.ops"
    label = "ops"
    verbose_name = "Operations: worker, demo data, workflow checks"
