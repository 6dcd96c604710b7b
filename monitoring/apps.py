from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="monitoring.poll_due_sources",
        defaults={
            "func": "monitoring.tasks.poll_due_sources",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="monitoring.prune_webhook_signatures",
        defaults={
            "func": "monitoring.tasks.prune_webhook_signatures",
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
        },
    )


class MonitoringConfig(AppConfig):
    """Keywords, sources, mentions and scoring. Depends on ``tenants``."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
