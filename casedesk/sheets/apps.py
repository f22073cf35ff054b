from django.apps import AppConfig


class SheetsConfig(AppConfig):
    name = "casedesk.sheets"
    label = "sheets"
    verbose_name = "Service sheets"

    def ready(self) -> None:
        from casedesk.tickets.services import observe_changes

        from .estimates import estimate_follow
        from .follow import sheet_follow

        observe_changes("sheets", sheet_follow)
        observe_changes("estimates", estimate_follow)
