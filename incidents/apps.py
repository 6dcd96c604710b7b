from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """Crisis incidents (a later issue). Depends on ``monitoring`` and ``playbooks``."""

    name = "incidents"
    verbose_name = "Incidents"
