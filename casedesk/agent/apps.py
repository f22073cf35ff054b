from django.apps import AppConfig


class AgentConfig(AppConfig):
    name = "casedesk.agent"
    label = "agent"
    verbose_name = "Agent workspace"
