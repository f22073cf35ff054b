from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "casedesk.portal"
    label = "portal"
    verbose_name = "Customer portal"
