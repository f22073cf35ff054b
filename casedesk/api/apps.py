from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "casedesk.api"
    label = "api"
    verbose_name = "REST API"
