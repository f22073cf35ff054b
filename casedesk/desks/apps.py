from django.apps import AppConfig


class DesksConfig(AppConfig):
    name = "casedesk.desks"
    label = "desks"
    verbose_name = "Desks and workflows"
