from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "casedesk.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from .tokens import revoke_on_credential_change

        pre_save.connect(
            revoke_on_credential_change,
            sender=get_user_model(),
            dispatch_uid="casedesk.api.revoke_tokens",
        )
