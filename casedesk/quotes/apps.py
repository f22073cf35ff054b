from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "casedesk.quotes"
    label = "quotes"
    verbose_name = "Quotes"
