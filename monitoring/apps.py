from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def next_retention_run(now: datetime) -> datetime:
    """Retention runs daily at 02:00 Jakarta time (19:00 UTC), when traffic is lowest."""
    run = now.astimezone(UTC).replace(hour=19, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django.utils import timezone
    from django_q.models import Schedule

    from tenants.schedules import keep

    keep(
        "monitoring.poll_due_sources",
        "monitoring.tasks.poll_due_sources",
        Schedule.MINUTES,
        minutes=1,
    )
    keep(
        "monitoring.prune_webhook_signatures",
        "monitoring.tasks.prune_webhook_signatures",
        Schedule.MINUTES,
        minutes=10,
    )
    keep(
        "monitoring.apply_retention",
        "monitoring.tasks.apply_retention_all",
        Schedule.DAILY,
        first_run=next_retention_run(timezone.now()),
    )


def default_alert_rules(sender: Any, tenant: Any, **kwargs: Any) -> None:
    from monitoring.early_warning.services import ensure_default_rules

    ensure_default_rules(tenant=tenant)


class MonitoringConfig(AppConfig):
    """Keywords, sources, mentions and scoring. Depends on ``tenants``."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from monitoring import polling

        post_migrate.connect(ensure_schedules, sender=self)
        # Every write of a source keeps its poll schedule row in step (monitoring.polling).
        post_save.connect(polling.on_source_saved, sender="monitoring.Source")
        post_delete.connect(polling.on_source_deleted, sender="monitoring.Source")
        # Every tenant starts with the default alert rules (docs/alerts.md).
        from tenants.signals import tenant_created

        tenant_created.connect(default_alert_rules, dispatch_uid="monitoring.default_alert_rules")
