from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    """Crisis communication playbooks (a later issue). Depends on ``tenants``."""

    name = "playbooks"
    verbose_name = "Playbooks"
