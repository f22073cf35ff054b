from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "casedesk.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        from casedesk.common.errors import set_speaker

        from .messages import say

        set_speaker(say)
