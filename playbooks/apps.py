from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    """Crisis-communication playbooks (templates, steps, versions) and the response-advice
    rules (docs/playbooks.md). Depends on ``tenants`` only."""

    name = "playbooks"
    verbose_name = "Playbooks"
