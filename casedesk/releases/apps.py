from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "casedesk.releases"
    label = "releases"
    verbose_name = "Releases and customer environments"

    def ready(self) -> None:
        from casedesk.tickets.services import observe_changes

        from .acceptance import acceptances_follow
        from .following import fixes_follow

        # verdicts first: they read the fix the move may be about to withdraw
        observe_changes("releases.acceptance", acceptances_follow)
        observe_changes("releases", fixes_follow)
