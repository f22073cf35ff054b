from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "casedesk.releases"
    label = "releases"
    verbose_name = "Releases and customer environments"

    def ready(self) -> None:
        from casedesk.tickets.services import observe_changes

        from .following import fixes_follow

        observe_changes("releases", fixes_follow)
