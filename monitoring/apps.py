from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Keywords, sources, mentions and scoring. Depends on ``tenants``."""

    name = "monitoring"
    verbose_name = "Monitoring"
